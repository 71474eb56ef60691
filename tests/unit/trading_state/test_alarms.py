"""Every automatic halt reads the same to a trader, whoever raised it."""

from __future__ import annotations

from engine.events.types import Broker, EventType, Severity, TradingMode
from engine.processing.emitter import Emitter
from engine.risk.alerts import emit_auto_halt
from engine.trading_state.state import TradingState
from tests.unit.trading_state.conftest import StartProcess
from tests.unit.trading_state.harness import Observer


async def test_a_system_halt_and_a_risk_halt_raise_the_same_alarm(
    start_process: StartProcess, observer: Observer
) -> None:
    engine = await start_process()
    await engine.control.auto_halt("feed stale for 30 s", "feed_stale")
    await engine.settle()
    system = (await observer.drain()).alerts[0]

    out = Emitter("risk", None, 1)
    risk = emit_auto_halt(
        out, TradingState(Broker.PAPER), rule="feed_stale", reason="feed stale for 30 s", ts_ns=1
    )

    assert risk.severity is system.severity is Severity.CRITICAL
    assert risk.message == system.message == "Trading HALTED on paper: feed stale for 30 s"
    assert [item.envelope.type for item in out.outbox] == [
        EventType.CONTROL_COMMAND,
        EventType.RISK_ALERT,
    ]
    assert engine.state.effective() is TradingMode.HALTED
