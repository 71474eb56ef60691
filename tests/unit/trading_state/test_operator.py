"""The operator's controls: one implementation for every console and the CLI's requests."""

from __future__ import annotations

import pytest

from engine.events.payloads import TradingStateChanged
from engine.events.types import OrderCommandAction, TradingMode
from engine.memory_store import MemoryTradingStore
from engine.trading_state.operator import (
    NotRunningError,
    OperatorControl,
    TradingOperator,
    kill_reason,
    show_changes,
)
from engine.trading_state.requests import ControlRequestPoller, request_record
from tests.unit.trading_state.conftest import StartProcess
from tests.unit.trading_state.harness import BROKER, Observer


async def test_a_console_kill_cancels_orders_for_the_kill_switch_said_once(
    start_process: StartProcess, observer: Observer
) -> None:
    engine = await start_process()
    controls = TradingOperator(lambda: engine.control)

    assert controls.halt_now(operator="alice@desk") is True
    await controls.kill(flatten=True, operator="alice@desk")
    await engine.settle()

    seen = await observer.drain()
    assert [(c.action, c.reason) for c in seen.order_commands] == [
        (OrderCommandAction.CANCEL_ALL, "kill switch"),
        (OrderCommandAction.SQUARE_OFF_ALL, "kill switch"),
    ]
    record = engine.state.record()
    assert record is not None
    assert (record.mode, record.reason) == (TradingMode.HALTED, "kill switch")


async def test_a_kill_from_the_cli_says_where_it_came_from_once(
    start_process: StartProcess, observer: Observer, store: MemoryTradingStore
) -> None:
    engine = await start_process()
    poller = ControlRequestPoller(store=store, control=engine.control, broker=BROKER.value)
    poller._since = 1  # requests after the engine's start
    await store.add_audit(request_record("kill", "bob@shell", 10, request_id="r-1"))

    assert await poller.poll_once() == 1
    await engine.settle()

    seen = await observer.drain()
    assert [c.reason for c in seen.order_commands] == ["kill switch (cli)"]
    assert kill_reason("cli") == "kill switch (cli)"
    assert engine.state.record().reason == "kill switch (cli)"  # type: ignore[union-attr]


async def test_controls_refuse_while_nothing_runs_and_halt_now_says_no() -> None:
    controls = TradingOperator(lambda: None, not_running="the console is not attached")

    assert isinstance(controls, OperatorControl)
    assert controls.halt_now(operator="alice@desk") is False
    with pytest.raises(NotRunningError, match="the console is not attached"):
        await controls.kill(operator="alice@desk")
    with pytest.raises(NotRunningError):
        await controls.resume(operator="alice@desk")


async def test_a_refused_resume_sends_nothing(
    start_process: StartProcess, observer: Observer
) -> None:
    engine = await start_process()

    async def prechecks_fail(strategy: str | None) -> None:
        raise RuntimeError("token expired")

    controls = TradingOperator(lambda: engine.control, before_resume=prechecks_fail)
    await controls.kill(operator="alice@desk")
    await engine.settle()
    with pytest.raises(RuntimeError, match="token expired"):
        await controls.resume(operator="alice@desk")
    await engine.settle()

    seen = await observer.drain()
    assert [c.data.mode for c in seen.changes] == [TradingMode.HALTED]
    assert engine.state.effective() is TradingMode.HALTED


async def test_every_published_command_is_flushed(start_process: StartProcess) -> None:
    engine = await start_process()
    flushes: list[int] = []

    async def flush() -> None:
        flushes.append(1)

    controls = TradingOperator(lambda: engine.control, after_send=flush)
    await controls.halt("ema", operator="alice@desk")
    await controls.reduce(operator="alice@desk")
    await controls.resume("ema", operator="alice@desk")
    await controls.kill(operator="alice@desk")

    assert len(flushes) == 4


async def test_show_changes_hands_over_each_change_as_the_bus_event(
    start_process: StartProcess,
) -> None:
    engine = await start_process()
    shown: list[TradingStateChanged] = []
    show_changes(engine.state, shown.append)

    TradingOperator(lambda: engine.control).halt_now(operator="alice@desk")

    assert [(c.scope, c.mode, c.previous, c.reason, c.operator) for c in shown] == [
        ("global", TradingMode.HALTED, TradingMode.ACTIVE, "kill switch", "alice@desk")
    ]
