"""The orders book's ``m`` on the real embedded paper runtime: a resting manual LIMIT is
modified through the dialog (checked against the tick size as typed) and the book shows
the new price; past Kite's 25 modifications the dialog says so and cannot send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Button, Input, Static

from engine.domain.records import AuditRecord
from engine.events.types import OrderStatus, OrderType, Product, Side
from engine.instruments import load_default_registry
from engine.trading_state.manual import OrderTicket
from engine.trading_state.manual_requests import MODIFY_ACK, modifications_done
from screens.modify_dialog import ModifyOrderScreen, price_problem
from screens.orders_book import OrdersBookScreen
from tests.helpers import eventually
from tests.tui.test_real_runtime import (  # noqa: F401  # the autouse fixture, active here too
    RealConsole,
    keys_do_not_wait_for_an_idle_cpu,
    open_real_console,
)
from widgets.book_tables import OrdersBookTable

FAR_LIMIT = Decimal("1515.00")  # INFY trades near 1,580: rests, inside the 5% band


@pytest.fixture
async def real(isolated_home: Path) -> AsyncIterator[RealConsole]:
    async for console in open_real_console(isolated_home):
        yield console


async def _resting_limit(real: RealConsole) -> str:
    # As a trader would: wait for INFY to trade first. Before its first tick risk cannot
    # check a limit price against the band and refuses it, in words (that is tested too).
    infy = load_default_registry().by_key("NSE:INFY").instrument_token
    await eventually(
        lambda: (
            real.runtime.read_model.ltp.get(infy) is not None
            and real.runtime.read_model.ticks_seen > 100
        ),
        timeout=10,
        message="no INFY tick reached the console",
    )
    ticket = OrderTicket(
        side=Side.BUY,
        symbol="INFY",
        quantity=1,
        order_type=OrderType.LIMIT,
        product=Product.CNC,
        price=FAR_LIMIT,
    )
    coid = await real.runtime.controls.place_order(
        ticket, request_id="modify-1", operator="trader@desk"
    )
    await eventually(
        lambda: coid in real.store.orders and real.store.orders[coid].status is OrderStatus.OPEN,
        timeout=10,
        message=f"the manual LIMIT did not rest: {real.store.orders.get(coid)} "
        f"{list(real.runtime.read_model.books.rejections.values())}",
    )
    return coid


async def _open_dialog(real: RealConsole, coid: str) -> ModifyOrderScreen:
    if not isinstance(real.app.screen, OrdersBookScreen):
        await real.pilot.press("o")
    await eventually(  # the book on the screen, composed
        lambda: (
            isinstance(real.app.screen, OrdersBookScreen) and bool(real.app.screen.query("#book"))
        ),
        message="the orders book is not shown",
    )
    book = real.app.screen.query_one("#book", OrdersBookTable)
    await eventually(lambda: coid in book.row_keys, message="the order is not in the book")
    book.cursor_row = book.row_keys.index(coid)
    await real.pilot.press("m")
    await eventually(
        lambda: (
            isinstance(real.app.screen, ModifyOrderScreen)
            and bool(real.app.screen.query("#modify-problem"))
        ),
        message="the modify dialog did not open",
    )
    dialog = real.app.screen
    assert isinstance(dialog, ModifyOrderScreen)
    return dialog


def _problem(dialog: ModifyOrderScreen) -> str:
    return str(dialog.query_one("#modify-problem", Static).render())


async def test_m_modifies_a_resting_limit_and_the_book_shows_the_new_price(
    real: RealConsole,
) -> None:
    coid = await _resting_limit(real)
    dialog = await _open_dialog(real, coid)
    price = dialog.query_one("#modify-price", Input)

    price.value = "1515.03"  # off INFY's 0.05 tick
    await eventually(lambda: "tick size" in _problem(dialog), message=_problem(dialog))
    assert dialog.query_one("#confirm", Button).disabled
    price.value = "1516.50"
    await eventually(lambda: not dialog.query_one("#confirm", Button).disabled)
    price.focus()
    await real.pilot.press("enter")

    await eventually(
        lambda: real.store.orders[coid].price == Decimal("1516.50"),
        timeout=10,
        message=f"not modified: {real.store.orders[coid]}",
    )
    book = real.app.screen.query_one("#book", OrdersBookTable)
    await eventually(
        lambda: book.cell_text(coid, "price").replace(",", "") == "1516.50",
        message=f"the book shows {book.cell_text(coid, 'price')}",
    )
    assert await modifications_done(real.store, coid) == 1  # the CLI reads the same count


async def test_the_26th_modification_is_refused_in_words_and_nothing_is_sent(
    real: RealConsole,
) -> None:
    coid = await _resting_limit(real)
    for n in range(25):  # 25 already sent (by the CLI, say): the audit log's rows
        detail = {"request_id": f"seed-{n}", "client_order_id": coid, "sent": True}
        await real.store.add_audit(
            AuditRecord(audit_ts=n + 1, actor="trader@desk", action=MODIFY_ACK, detail=detail)
        )

    dialog = await _open_dialog(real, coid)
    dialog.query_one("#modify-price", Input).value = "1516.50"

    await eventually(lambda: "25 modifications per order" in _problem(dialog))
    assert "already modified 25 times" in _problem(dialog)
    assert dialog.query_one("#confirm", Button).disabled
    await real.pilot.press("enter")  # on the focused Cancel: nothing to send
    await eventually(lambda: isinstance(real.app.screen, OrdersBookScreen))
    assert real.store.orders[coid].price == FAR_LIMIT
    assert await modifications_done(real.store, coid) == 25


@given(
    ticks=st.integers(min_value=1, max_value=10_000_000),
    tick=st.sampled_from([Decimal("0.05"), Decimal("0.01"), Decimal("0.10"), Decimal("1")]),
)
def test_a_price_on_the_tick_grid_passes_and_one_off_it_is_named(ticks: int, tick: Decimal) -> None:
    on_grid = tick * ticks
    assert price_problem(str(on_grid), tick, "price") == (on_grid, "")
    off_grid = on_grid + tick / 2
    value, problem = price_problem(str(off_grid), tick, "price")
    assert value is None and f"not a multiple of the tick size {tick}" in problem
