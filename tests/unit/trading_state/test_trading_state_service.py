"""Halt, reduce and resume per strategy or globally, in every engine process."""

from __future__ import annotations

from engine.bus.memory import MemoryBus
from engine.clock import NS_PER_S, ManualClock
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ControlCommand
from engine.events.types import Broker, ControlAction, EventType, TradingMode
from tests.helpers import eventually
from tests.unit.trading_state.conftest import StartProcess
from tests.unit.trading_state.harness import BROKER, EngineProcess, Observer


async def test_halting_one_strategy_leaves_the_others_active(start_process: StartProcess) -> None:
    engine = await start_process()

    await engine.control.halt("ema", operator="alice@desk", reason="bad fills")
    await engine.settle()

    assert engine.state.effective("ema") is TradingMode.HALTED
    assert engine.state.effective("rsi") is TradingMode.ACTIVE
    assert engine.state.effective() is TradingMode.ACTIVE


async def test_every_process_obeys_a_command_from_the_console(
    bus: MemoryBus, start_process: StartProcess, observer: Observer
) -> None:
    engine_a = await start_process("engine-a")
    engine_b = await start_process("engine-b", acts_on_orders=False)
    console = EngineProcess(bus, None, "console")  # publishes only

    await console.control.reduce(operator="alice@desk", reason="volatile open")

    for engine in (engine_a, engine_b):
        await eventually(lambda e=engine: e.state.effective() is TradingMode.REDUCING)
    seen = await observer.drain()
    assert len({e.id for e in seen.changes}) == 1  # both announced it: the copies share one id


async def test_only_the_process_that_owns_execution_cancels_orders(
    bus: MemoryBus, start_process: StartProcess, observer: Observer
) -> None:
    engine = await start_process("engine", acts_on_orders=True)
    console = await start_process("console", acts_on_orders=False)

    await console.control.kill(operator="alice@desk")
    await engine.settle()
    await console.settle()

    assert console.state.effective() is engine.state.effective() is TradingMode.HALTED
    assert len((await observer.drain()).order_commands) == 1


async def test_global_resume_clears_halt_but_keeps_a_strategy_halt(
    start_process: StartProcess,
) -> None:
    engine = await start_process()
    await engine.control.halt("ema", operator="alice@desk")
    await engine.control.halt(operator="alice@desk")

    await engine.control.resume(operator="alice@desk")
    await engine.settle()

    assert engine.state.effective() is TradingMode.ACTIVE
    assert engine.state.effective("ema") is TradingMode.HALTED


async def test_command_for_the_other_broker_is_ignored(
    bus: MemoryBus, start_process: StartProcess
) -> None:
    engine = await start_process()
    live_console = EngineProcess(bus, None, "live-console", broker=Broker.ZERODHA)

    await live_console.control.halt(operator="alice@desk")
    await engine.settle()

    assert engine.state.effective() is TradingMode.ACTIVE


async def test_command_older_than_the_age_limit_is_not_replayed(
    bus: MemoryBus, start_process: StartProcess, observer: Observer
) -> None:
    now = 1_717_390_000 * NS_PER_S
    old_kill = new_event(
        EventType.CONTROL_COMMAND,
        ControlCommand(action=ControlAction.KILL, flatten=True, operator="alice@desk"),
        source="test",
        key=BROKER.value,
        broker=BROKER,
        ts_ns=now - 3600 * NS_PER_S,
    )
    await bus.publish(topics.CONTROL_COMMANDS, old_kill)

    engine = await start_process(clock=ManualClock(now))
    await engine.settle()

    assert engine.state.effective() is TradingMode.ACTIVE
    assert (await observer.drain()).order_commands == []
