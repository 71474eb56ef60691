"""The orders book and trade book on the real paper runtime: the trader's keys, the screen.

The whale strategy asks for 10,000 RELIANCE; here the per-order limit is 1,000, so every
whale order is a risk rejection with its reason, while the other strategies fill.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest
from textual.css.query import NoMatches
from textual.geometry import Region
from textual.widget import Widget

from alphapanda_tui.settings import Settings, load_settings
from engine.events.types import OrderStatus, TradingMode
from screens.book_screen import BookScreen
from screens.confirm import ConfirmScreen
from screens.order_detail import OrderDetailScreen
from screens.orders_book import OrdersBookScreen
from screens.trade_book import TradeBookScreen
from tests.helpers import eventually
from tests.tui import test_real_runtime as real_runtime
from tests.tui.test_real_runtime import (  # noqa: F401  # the autouse fixture, active here too
    HUGE,
    STRATEGIES_YAML,
    RealConsole,
    keys_do_not_wait_for_an_idle_cpu,
    open_real_console,
)
from widgets.book_tables import OrdersBookTable, TradeBookTable
from widgets.keyed_table import KeyedTable

T = TypeVar("T", bound=KeyedTable)
ORDER_LIMIT = 1_000  # below the whale's 10,000: risk rejects each of its orders


def whale_refused_settings(home: Path, **overrides: object) -> Settings:
    strategies = home / "strategies.yaml"
    strategies.write_text(STRATEGIES_YAML)
    return load_settings(
        home=home,
        strategies_file=strategies,
        risk={
            "max_order_quantity": ORDER_LIMIT,
            "max_order_value": HUGE,
            "max_position_value": HUGE,
            "max_gross_exposure": HUGE,
            "max_daily_loss": HUGE,
            "max_open_orders": 1_000,
            "max_orders_per_second": 1_000,
        },
        portfolio={"snapshot_interval_s": 3600, "starting_cash": HUGE},
        **overrides,
    )


@pytest.fixture
async def real(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RealConsole]:
    monkeypatch.setattr(real_runtime, "engine_settings", whale_refused_settings)
    async for console in open_real_console(isolated_home):
        yield console


async def _book(real: RealConsole, kind: type[BookScreen], table: type[T]) -> T:
    """The book the trader just opened, once it is on the screen."""
    await eventually(
        lambda: isinstance(real.app.screen, kind) and bool(real.app.screen.query("#book")),
        message=f"{kind.__name__} not shown",
    )
    return real.app.screen.query_one("#book", table)


def _filled(real: RealConsole) -> str | None:
    for coid, order in real.store.orders.items():
        if order.status is OrderStatus.FILLED and any(
            f.client_order_id == coid for f in real.store.fills.values()
        ):
            return coid
    return None


def _rejected(real: RealConsole) -> str | None:
    """A whale order risk refused (never sent: no row in the store, keyed by its signal)."""
    for key, rejection in real.runtime.read_model.books.rejections.items():
        if rejection.strategy == "whale":
            assert key not in real.store.orders
            return key
    return None


async def test_a_paper_fill_is_in_the_orders_book_and_the_trade_book(real: RealConsole) -> None:
    await eventually(lambda: _filled(real) is not None, timeout=10, message="nothing filled")
    coid = _filled(real)
    assert coid is not None
    stored = real.store.orders[coid]
    await real.pilot.press("o")
    book = await _book(real, OrdersBookScreen, OrdersBookTable)
    await eventually(lambda: coid in book.row_keys, message="the filled order is not listed")
    assert book.cell_text(coid, "status") == "FILLED"
    assert book.cell_text(coid, "symbol") == stored.symbol.removeprefix("NSE:")
    assert book.cell_text(coid, "filled") == f"{stored.quantity:,d}"
    assert book.cell_text(coid, "strategy") == stored.strategy

    await real.pilot.press("h")  # no halt of a strategy selected on the hidden dashboard
    assert {real.state(name) for name in ("momo", "revert", "whale")} == {TradingMode.ACTIVE}

    await real.pilot.press("t")  # straight to the trade book: one book open at a time
    trades = await _book(real, TradeBookScreen, TradeBookTable)
    assert len(real.app.screen_stack) == 2
    fills = [f for f in real.store.fills.values() if f.client_order_id == coid]
    await eventually(lambda: all(f.trade_id in trades.row_keys for f in fills))
    fill = fills[0]
    assert trades.cell_text(fill.trade_id, "order") == coid
    assert trades.cell_text(fill.trade_id, "qty") == f"{fill.quantity:,d}"
    assert trades.cell_text(fill.trade_id, "price") == f"{fill.price:,.2f}"
    assert trades.cell_text(fill.trade_id, "charges") == f"{fill.charges:,.2f}"

    await real.pilot.press("escape")
    assert len(real.app.screen_stack) == 1  # back on the dashboard


async def test_the_rejected_filter_shows_the_risk_reason(real: RealConsole) -> None:
    await eventually(lambda: _rejected(real) is not None, timeout=10, message="no rejection")
    await eventually(lambda: _filled(real) is not None, timeout=10, message="nothing filled")
    coid = _rejected(real)
    assert coid is not None
    assert not any(o.strategy == "whale" for o in real.store.orders.values())  # never sent
    await real.pilot.press("o")
    book = await _book(real, OrdersBookScreen, OrdersBookTable)
    await real.pilot.press("3")
    await eventually(lambda: coid in book.row_keys, message="the rejection is not listed")
    assert book.cell_text(coid, "reason") == (
        f"quantity 10000 exceeds the per-order limit of {ORDER_LIMIT}"
    )
    statuses = {book.cell_text(key, "status") for key in book.row_keys}
    assert statuses == {"REJECTED"}  # a filled order is not among them
    await real.pilot.press("x")  # nothing to cancel: no question, nothing sent
    assert isinstance(real.app.screen, OrdersBookScreen)

    await real.pilot.press("1")  # open: a rejection is finished, never listed as open
    assert coid not in book.row_keys
    await real.pilot.press("2")
    assert coid in book.row_keys and _filled(real) in book.row_keys

    book.cursor_row = book.row_keys.index(coid)
    await real.pilot.press("enter")
    await eventually(lambda: isinstance(real.app.screen, OrderDetailScreen))
    title = await _drawn(real, "#detail-title")
    assert "Refused by risk (max_order_quantity): never sent" in title
    assert "No fills." in await _drawn(real, "#detail-fills")


async def test_an_orders_detail_shows_its_status_history_and_fills(real: RealConsole) -> None:
    await eventually(lambda: _filled(real) is not None, timeout=10, message="nothing filled")
    coid = _filled(real)
    await real.pilot.press("o")
    book = await _book(real, OrdersBookScreen, OrdersBookTable)
    await eventually(lambda: coid in book.row_keys)
    book.cursor_row = book.row_keys.index(coid)
    await real.pilot.press("enter")
    await eventually(lambda: isinstance(real.app.screen, OrderDetailScreen))
    history = await _drawn(real, "#detail-history")
    assert history.index("OPEN") < history.index("FILLED")  # the way it went, in order
    fills = await _drawn(real, "#detail-fills")
    for fill in (f for f in real.store.fills.values() if f.client_order_id == coid):
        assert fill.trade_id in fills and f"{fill.price:,.2f}" in fills
    await real.pilot.press("escape")
    assert isinstance(real.app.screen, OrdersBookScreen)


async def _drawn(real: RealConsole, selector: str) -> str:
    """What the open screen's widget shows, once it has been mounted, laid out and drawn
    (a screen just pushed may not have composed its widgets yet on a busy machine)."""

    def shown() -> str:
        try:
            return _plain(real.app.screen.query_one(selector)).strip()
        except NoMatches:
            return ""

    await eventually(lambda: shown() != "", message=f"{selector} not drawn")
    return _plain(real.app.screen.query_one(selector))


def _plain(widget: Widget) -> str:
    """The lines the widget draws on the screen, as text."""
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join(line.text for line in lines)


@pytest.fixture
async def whale_works(isolated_home: Path) -> AsyncIterator[RealConsole]:
    """The real runtime's own settings: the whale's big order rests, working, in paper."""
    async for console in open_real_console(isolated_home):
        yield console


async def test_x_cancels_the_selected_working_order_after_a_confirm(
    whale_works: RealConsole,
) -> None:
    real = whale_works
    model = real.runtime.read_model
    await eventually(
        lambda: any(o.strategy == "whale" for o in model.open_orders()),
        timeout=10,
        message="the whale has no working order",
    )
    await real.pilot.press("o")
    book = await _book(real, OrdersBookScreen, OrdersBookTable)
    await real.pilot.press("1")
    whale = next(o.client_order_id for o in model.open_orders() if o.strategy == "whale")
    await eventually(lambda: whale in book.row_keys)
    book.cursor_row = book.row_keys.index(whale)

    await real.pilot.press("x")
    await eventually(lambda: isinstance(real.app.screen, ConfirmScreen))
    await real.pilot.press("escape")  # no: nothing is sent
    await eventually(lambda: isinstance(real.app.screen, OrdersBookScreen))
    assert real.store.orders[whale].status is not OrderStatus.CANCELLED

    book.cursor_row = book.row_keys.index(whale)
    await real.pilot.press("x")
    await eventually(lambda: isinstance(real.app.screen, ConfirmScreen))
    await real.pilot.press("left", "enter")  # focus "Cancel order", choose it
    await eventually(
        lambda: real.store.orders[whale].status is OrderStatus.CANCELLED,
        message="the order was not cancelled",
    )
    await eventually(lambda: isinstance(real.app.screen, OrdersBookScreen))
    await real.pilot.press("2")
    await eventually(
        lambda: whale in book.row_keys and book.cell_text(whale, "status") == "CANCELLED",
        message=f"{whale} not shown CANCELLED: {model.orders.get(whale)} {book.row_keys}",
    )
