"""Positions on the real paper runtime: e exits one, E one strategy, p sets a stop.

The trader selects a row in Positions and presses the key; the assertions read the store
the engine writes (the exit order, its fill) and the screen (the books, the SL/TP column).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.command import CommandPalette

from engine.domain.records import OrderRecord
from engine.events.types import OrderStatus, OrderType, Side, TradingMode
from engine.read_model.views import PositionView
from screens.confirm import ConfirmScreen
from screens.orders_book import OrdersBookScreen
from screens.position_exit import ExitPositionScreen
from screens.protection_dialog import ProtectionScreen
from tests.helpers import eventually
from tests.tui.test_real_runtime import (  # noqa: F401  # the autouse fixture, active here too
    RealConsole,
    keys_do_not_wait_for_an_idle_cpu,
    open_real_console,
)
from widgets.book_tables import OrdersBookTable
from widgets.positions_table import PositionsTable, protection_text

SQUARE_OFF_PREFIX = "SQ"  # execution's client order ids for square-offs (``_flatten``)


@pytest.fixture
async def real(isolated_home: Path) -> AsyncIterator[RealConsole]:
    async for console in open_real_console(isolated_home):
        yield console


def _table(real: RealConsole) -> PositionsTable:
    return real.app.dashboard.query_one("#positions", PositionsTable)


async def _select_open(real: RealConsole, strategy: str, long_only: bool = False) -> PositionView:
    """Wait for an open position of ``strategy`` in the table and put the cursor on it."""
    table = _table(real)

    def found() -> PositionView | None:
        for key in table.row_keys:
            view = table._views.get(key)
            if view is not None and view.strategy == strategy and view.net_quantity:
                if not long_only or view.net_quantity > 0:
                    return view
        return None

    await eventually(lambda: found() is not None, timeout=15, message=f"no {strategy} position")
    view = found()
    assert view is not None
    table.cursor_row = table.row_keys.index(view.key)
    assert table.selected_position == view
    return view


async def _halted_holding(real: RealConsole, strategy: str) -> PositionView:
    """Wait for ``strategy`` to hold a position, halt it (it sends nothing more, so the
    position stays as the exit finds it) and select that position once nothing works."""
    await _select_open(real, strategy)
    await real.app.handle.controls.halt(strategy, operator="test")
    model = real.runtime.read_model
    await eventually(lambda: not any(o.strategy == strategy for o in model.open_orders()))
    await real.ticks(50)  # the last fills reach the portfolio and the read model
    return await _select_open(real, strategy)


async def _dialog(real: RealConsole, kind: type) -> None:
    """Wait for the dialog to be on the screen and drawn (its buttons composed)."""
    await eventually(
        lambda: isinstance(real.app.screen, kind) and bool(real.app.screen.query("#confirm")),
        message=f"no {kind.__name__}",
    )


def _exits(real: RealConsole, strategy: str, token: int | None = None) -> list[OrderRecord]:
    return [
        o
        for o in real.store.orders.values()
        if o.client_order_id.startswith(SQUARE_OFF_PREFIX)
        and o.strategy == strategy
        and (token is None or o.instrument_token == token)
    ]


def _net(real: RealConsole, view: PositionView) -> int:
    position = real.runtime.read_model.positions.get((view.strategy, view.instrument_token))
    return 0 if position is None else position.net_quantity


async def test_e_exits_the_selected_position_at_market(real: RealConsole) -> None:
    view = await _halted_holding(real, "momo")
    await real.pilot.press("e")
    await _dialog(real, ExitPositionScreen)
    shown = str(real.app.screen.query_one("#dialog-question").render())
    side = Side.SELL if view.net_quantity > 0 else Side.BUY
    assert f"{side.value} {abs(view.net_quantity)}" in shown and "momo" in shown
    await real.pilot.press("escape")  # no: nothing is sent
    await eventually(lambda: real.app.screen is real.app.dashboard)
    assert not _exits(real, "momo", view.instrument_token)

    view = await _select_open(real, "momo")
    await real.pilot.press("e")
    await _dialog(real, ExitPositionScreen)
    await real.pilot.press("enter")  # blank limit: MARKET
    await eventually(
        lambda: any(o.status is OrderStatus.FILLED for o in _exits(real, "momo")),
        message="the exit was not filled",
    )
    (exit_order,) = _exits(real, "momo", view.instrument_token)
    assert exit_order.order_type is OrderType.MARKET
    assert exit_order.side is (Side.SELL if view.net_quantity > 0 else Side.BUY)
    await eventually(lambda: _net(real, view) == 0, message="the position is not flat")
    await eventually(lambda: _table(real).cell_text(view.key, "qty") == "0")

    await real.pilot.press("o")  # the exit is in the orders book
    await eventually(  # pushed, then composed: the table exists a frame later
        lambda: (
            isinstance(real.app.screen, OrdersBookScreen) and bool(real.app.screen.query("#book"))
        )
    )
    book = real.app.screen.query_one("#book", OrdersBookTable)
    await real.pilot.press("2")
    coid = exit_order.client_order_id
    await eventually(lambda: coid in book.row_keys, message="the exit is not in the book")
    assert book.cell_text(coid, "status") == "FILLED"


async def test_e_with_a_limit_price_sends_a_limit_exit(real: RealConsole) -> None:
    view = await _halted_holding(real, "momo")
    await real.pilot.press("e")
    await _dialog(real, ExitPositionScreen)
    await real.pilot.press(*"abc")  # not a price: the exit button is disabled, Enter sends nothing
    assert real.app.screen.query_one("#confirm").disabled
    await real.pilot.press("enter")
    assert isinstance(real.app.screen, ExitPositionScreen)
    await real.pilot.press("backspace", "backspace", "backspace", *"1")
    await real.pilot.press("enter")
    await eventually(lambda: bool(_exits(real, "momo", view.instrument_token)))
    (exit_order,) = _exits(real, "momo", view.instrument_token)
    assert exit_order.order_type is OrderType.LIMIT
    assert str(exit_order.price) == "1"


async def test_E_exits_every_position_of_the_strategy_only(real: RealConsole) -> None:
    view = await _halted_holding(real, "momo")
    open_momo = {
        token: p.net_quantity
        for (name, token), p in real.runtime.read_model.positions.items()
        if name == "momo" and p.net_quantity
    }
    assert view.instrument_token in open_momo
    await real.pilot.press("E")
    await _dialog(real, ConfirmScreen)
    await real.pilot.press("left", "enter")  # focus "Exit strategy", choose it
    await eventually(
        lambda: {o.instrument_token for o in _exits(real, "momo")} >= set(open_momo),
        message="not every momo position was exited",
    )
    assert not _exits(real, "revert") and not _exits(real, "whale")
    assert real.state("momo") is TradingMode.HALTED  # as the test set it
    assert real.state() is TradingMode.ACTIVE


async def test_p_sets_a_stop_and_target_shown_in_the_table(real: RealConsole) -> None:
    view = await _select_open(real, "momo")
    await real.pilot.press("p")
    await _dialog(real, ProtectionScreen)
    screen = real.app.screen
    await real.pilot.press(*"12x")  # checked as typed: Set disabled, the reason shown
    assert screen.query_one("#confirm").disabled
    assert "Stop-loss: not a price" in str(screen.query_one("#protect-problem").render())
    await real.pilot.press("backspace", "backspace", "backspace", *"5%", "tab", *"5%")
    assert not screen.query_one("#confirm").disabled
    await real.pilot.press("enter")
    key = (view.strategy, view.instrument_token)
    model = real.runtime.read_model
    await eventually(lambda: key in model.protections, message="no protection kept")
    state = model.protections[key]
    assert state.stop is not None and state.target is not None
    table = _table(real)
    await eventually(
        lambda: table.cell_text(view.key, "protection").startswith("SL "),
        message="the table does not show the stop",
    )
    shown = table.cell_text(view.key, "protection")
    assert shown == protection_text(state, long=view.net_quantity > 0)
    assert "TP " in shown and f"{state.target:f}".rstrip("0").rstrip(".") in shown


async def test_an_exit_goes_out_while_halted(real: RealConsole) -> None:
    """Rule: a square-off reduces the position, and execution sends it past the halt
    (``_flatten`` sends with ``bypass_halt``); risk never sees it. The kill switch (no
    flatten) leaves the whale long with HALTED set; e still closes it."""
    view = await _select_open(real, "whale", long_only=True)
    await real.kill()
    await eventually(lambda: not real.runtime.read_model.open_orders(), message="still working")
    await real.ticks(50)  # the last fills reach the portfolio and the read model
    view = await _select_open(real, "whale", long_only=True)
    await real.pilot.press("e")
    await _dialog(real, ExitPositionScreen)
    await real.pilot.press("enter")
    await eventually(lambda: _net(real, view) == 0, timeout=15, message="whale not flat")
    (exit_order,) = _exits(real, "whale")
    assert exit_order.side is Side.SELL and exit_order.status is OrderStatus.FILLED
    assert real.state() is TradingMode.HALTED  # still halted: the exit resumed nothing


async def test_exit_everything_from_the_palette_squares_off_without_halting(
    real: RealConsole,
) -> None:
    await _halted_holding(real, "momo")  # both keep what they hold until the exit
    await _halted_holding(real, "revert")
    held = {
        key
        for key, p in real.runtime.read_model.positions.items()
        if p.net_quantity and key[0] in ("momo", "revert")
    }
    await real.pilot.press("ctrl+p")
    await eventually(lambda: isinstance(real.app.screen, CommandPalette))
    await real.pilot.press(*"exit everything")
    await real.app.workers.wait_for_complete()
    await real.pilot.press("enter")
    await _dialog(real, ConfirmScreen)
    await real.pilot.press("left", "enter")  # focus "Exit everything", choose it

    def exited() -> set[tuple[str, int]]:
        orders = _exits(real, "momo") + _exits(real, "revert")
        return {(o.strategy, o.instrument_token) for o in orders}

    await eventually(lambda: exited() >= held, message=f"not all exited: {held - exited()}")
    assert real.state() is TradingMode.ACTIVE  # a square-off, not the kill switch
