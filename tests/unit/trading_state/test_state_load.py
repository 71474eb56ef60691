"""Restoring persisted trading states never loosens a halt across two clocks."""

from __future__ import annotations

from engine.domain.records import TradingStateRecord
from engine.events.types import Broker, TradingMode
from engine.trading_state import TradingState
from engine.trading_state.state import GLOBAL_SCOPE


def _record(mode: TradingMode, ts: int) -> TradingStateRecord:
    return TradingStateRecord(
        broker=Broker.PAPER, scope=GLOBAL_SCOPE, mode=mode, reason="", operator="", changed_ts=ts
    )


def test_a_persisted_halt_wins_over_an_active_stamped_later_in_another_clock() -> None:
    """On SIM the engine stamps in the simulated clock (here ahead of the wall clock) and
    `alphapanda kill` stamps wall time: the kill must not lose on a service restart."""
    state = TradingState(Broker.PAPER)
    state.set(TradingMode.ACTIVE, ts_ns=2_000)  # the engine, simulated clock ahead

    state.load([_record(TradingMode.HALTED, 1_000)])  # a CLI kill, wall clock

    assert state.scope_mode(GLOBAL_SCOPE) is TradingMode.HALTED


def test_a_newer_halt_in_memory_still_wins_over_an_older_persisted_active() -> None:
    state = TradingState(Broker.PAPER)
    state.set(TradingMode.HALTED, ts_ns=2_000)

    state.load([_record(TradingMode.ACTIVE, 1_000)])

    assert state.scope_mode(GLOBAL_SCOPE) is TradingMode.HALTED
