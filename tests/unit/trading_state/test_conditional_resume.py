"""A conditional resume (risk lifting its own daily-loss halt) never undoes a later halt."""

from __future__ import annotations

from engine.bus.memory import MemoryBus
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ControlCommand
from engine.events.types import ControlAction, EventType, TradingMode
from engine.memory_store import MemoryTradingStore
from tests.unit.trading_state.conftest import StartProcess
from tests.unit.trading_state.harness import BROKER

LOSS_HALT = "daily loss limit breached on 2024-06-03: day P&L ₹-6,000.00"


async def publish(bus: MemoryBus, command: ControlCommand) -> None:
    event = new_event(
        EventType.CONTROL_COMMAND, command, source="risk", key=BROKER.value, broker=BROKER
    )
    await bus.publish(topics.CONTROL_COMMANDS, event)


def lift() -> ControlCommand:
    return ControlCommand(
        action=ControlAction.RESUME, operator="risk", reason="new day", if_reason=LOSS_HALT
    )


async def test_the_lift_applies_while_the_loss_halt_stands(
    bus: MemoryBus, store: MemoryTradingStore, start_process: StartProcess
) -> None:
    engine = await start_process()
    engine.state.set(TradingMode.HALTED, reason=LOSS_HALT, operator="risk")

    await publish(bus, lift())
    await engine.settle()

    assert engine.state.effective() is TradingMode.ACTIVE
    assert [a.action for a in store.audit] == ["trading.resume"]


async def test_the_lift_is_persisted_where_its_sender_already_applied_it(
    bus: MemoryBus, store: MemoryTradingStore, start_process: StartProcess
) -> None:
    engine = await start_process()
    engine.state.set(TradingMode.ACTIVE, reason="new day", operator="risk")  # risk, locally

    await publish(bus, lift())
    await engine.settle()

    assert [a.action for a in store.audit] == ["trading.resume"]


async def test_an_operator_halt_since_is_not_undone(
    bus: MemoryBus, store: MemoryTradingStore, start_process: StartProcess
) -> None:
    engine = await start_process()
    engine.state.set(TradingMode.HALTED, reason=LOSS_HALT, operator="risk")
    await engine.control.kill(operator="alice@desk", reason="enough for today")
    await engine.settle()

    await publish(bus, lift())
    await engine.settle()

    assert engine.state.effective() is TradingMode.HALTED
    assert [a.action for a in store.audit] == ["trading.kill"]
