"""Control requests left in storage by the CLI reach the running engine exactly once."""

from __future__ import annotations

from engine.bus import MemoryBus
from engine.clock import ManualClock
from engine.events.types import Broker, TradingMode
from engine.memory_store import MemoryTradingStore
from engine.trading_state.control import TradingControl
from engine.trading_state.requests import ControlRequestPoller, request_record
from engine.trading_state.state import TradingState


async def _poller() -> tuple[ControlRequestPoller, MemoryTradingStore, TradingState]:
    store = MemoryTradingStore()
    state = TradingState(Broker.PAPER)
    control = TradingControl(MemoryBus(), state, Broker.PAPER, ManualClock(1_000))
    poller = ControlRequestPoller(
        store=store, control=control, broker="paper", clock=ManualClock(1_000)
    )
    poller._since = 1_000
    return poller, store, state


async def test_a_kill_request_from_the_cli_halts_the_engine_once() -> None:
    poller, store, state = await _poller()
    await store.add_audit(request_record("kill", "asha@desk", 2_000, broker="paper"))
    assert await poller.poll_once() == 1
    assert state.scope_mode() is TradingMode.HALTED
    assert await poller.poll_once() == 0  # not applied twice


async def test_requests_already_published_on_the_bus_or_for_another_broker_are_skipped() -> None:
    poller, store, state = await _poller()
    await store.add_audit(
        request_record("kill", "asha@desk", 2_000, broker="paper", published=True)
    )
    await store.add_audit(request_record("kill", "asha@desk", 3_000, broker="zerodha"))
    await store.add_audit(request_record("halt", "asha@desk", 500, broker="paper"))  # old
    await poller.poll_once()
    assert state.scope_mode() is TradingMode.ACTIVE
    assert poller.applied == 0
