"""The kill switch: halted at once, every order cancelled, persisted, audited, announced."""

from __future__ import annotations

from engine.bus.memory import MemoryBus
from engine.events.types import OrderCommandAction, Severity, TradingMode
from engine.memory_store import MemoryTradingStore
from tests.helpers import eventually
from tests.unit.trading_state.conftest import StartProcess
from tests.unit.trading_state.harness import BROKER, EngineProcess, Observer


async def test_kill_halts_before_the_command_is_even_consumed(bus: MemoryBus) -> None:
    process = EngineProcess(bus, None, "not-started")  # no service running at all

    await process.control.kill(operator="alice@desk", reason="runaway strategy")

    assert process.state.effective("ema") is TradingMode.HALTED
    assert "runaway strategy" in (process.state.block_reason("ema", lambda: True) or "")


def test_halt_now_halts_synchronously_and_kill_then_publishes_once(bus: MemoryBus) -> None:
    """The console's key handler halts without awaiting; ``kill()`` follows with the command."""
    process = EngineProcess(bus, None, "not-started")
    changes: list[TradingMode] = []
    process.state.subscribe(lambda record, _previous: changes.append(record.mode))

    assert process.control.halt_now(operator="alice@desk", reason="kill switch") is True
    assert process.state.effective("ema") is TradingMode.HALTED
    assert process.state.record().operator == "alice@desk"  # type: ignore[union-attr]
    assert process.control.halt_now() is False  # already halted: nothing changes
    assert changes == [TradingMode.HALTED]


async def test_kill_after_halt_now_is_still_audited_and_cancels(
    start_process: StartProcess, store: MemoryTradingStore, observer: Observer
) -> None:
    engine = await start_process()

    engine.control.halt_now(operator="alice@desk", reason="kill switch")
    await engine.control.kill(operator="alice@desk", reason="kill switch")
    await engine.settle()

    seen = await observer.drain()
    assert [c.action for c in seen.order_commands] == [OrderCommandAction.CANCEL_ALL]
    assert store.states[(BROKER, "global")].mode is TradingMode.HALTED
    assert [(a.actor, a.action) for a in store.audit] == [("alice@desk", "trading.kill")]


async def test_kill_cancels_all_orders_and_is_audited_and_persisted(
    start_process: StartProcess, store: MemoryTradingStore, observer: Observer
) -> None:
    engine = await start_process()

    await engine.control.kill(operator="alice@desk", reason="runaway strategy")
    await engine.settle()

    seen = await observer.drain()
    assert [c.action for c in seen.order_commands] == [OrderCommandAction.CANCEL_ALL]
    assert seen.order_commands[0].broker is BROKER
    kill_alert = seen.alerts[0]
    assert kill_alert.severity is Severity.CRITICAL
    assert "Kill switch pressed by alice@desk" in kill_alert.message
    assert "runaway strategy" in kill_alert.message
    change = seen.changes[0].data
    assert (change.scope, change.mode, change.previous) == (
        "global",
        TradingMode.HALTED,
        TradingMode.ACTIVE,
    )
    assert store.states[(BROKER, "global")].mode is TradingMode.HALTED
    assert [(a.actor, a.action) for a in store.audit] == [("alice@desk", "trading.kill")]


async def test_kill_with_flatten_also_squares_off(
    start_process: StartProcess, observer: Observer
) -> None:
    engine = await start_process()

    await engine.control.kill(flatten=True, operator="alice@desk")
    await engine.settle()

    seen = await observer.drain()
    assert [c.action for c in seen.order_commands] == [
        OrderCommandAction.CANCEL_ALL,
        OrderCommandAction.SQUARE_OFF_ALL,
    ]
    assert "squaring off all positions" in seen.alerts[0].message


async def test_killed_engine_restarts_halted_until_an_operator_resumes(
    bus: MemoryBus, start_process: StartProcess, store: MemoryTradingStore
) -> None:
    first = await start_process("engine-1")
    await first.control.kill(operator="alice@desk", reason="end of day")
    await first.settle()
    await first.stop()

    restarted = await start_process("engine-2")

    assert restarted.state.effective() is TradingMode.HALTED
    await restarted.control.resume(operator="bob@desk", reason="all clear")
    await eventually(lambda: restarted.state.effective() is TradingMode.ACTIVE)
    assert store.states[(BROKER, "global")].mode is TradingMode.ACTIVE
    assert store.audit[-1].actor == "bob@desk"


async def test_resume_waits_for_the_service_to_persist_it(bus: MemoryBus) -> None:
    process = EngineProcess(bus, None, "not-started")
    await process.control.halt(operator="alice@desk")

    await process.control.resume(operator="alice@desk")

    assert process.state.effective() is TradingMode.HALTED
    await process.start()
    await eventually(lambda: process.state.effective() is TradingMode.ACTIVE)
    await process.stop()


async def test_automatic_halt_names_its_rule_and_is_audited_as_the_system(
    start_process: StartProcess, store: MemoryTradingStore, observer: Observer
) -> None:
    engine = await start_process()

    await engine.control.auto_halt("Zerodha access token expired at 06:00 IST", "token_expired")

    assert engine.state.effective() is TradingMode.HALTED
    await engine.settle()
    alert = (await observer.drain()).alerts[0]
    assert alert.severity is Severity.CRITICAL and alert.rule == "token_expired"
    assert "token expired" in alert.message
    assert store.audit[-1].actor == "system"
    assert (await observer.drain()).order_commands == []  # a halt cancels nothing
