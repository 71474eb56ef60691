"""SVG snapshots of the orders book (with a venue and a risk rejection) and the trade book,
at 120×40 and over SSH at 80×24: every price, quantity and charge whole.

Deterministic: the harness's fixed morning plus fixed fills and a fixed risk refusal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import msgspec
import pytest
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from engine.events import topics
from engine.events.payloads import Fill, OrderUpdate, RejectedSignal, Signal
from engine.events.types import EventType, OrderStatus, Side
from tests.helpers import eventually
from tests.tui.harness import NS, START_NS, BusHarness, order, seed

WIDE = (120, 40)
SSH = (80, 24)
SIZES = pytest.mark.parametrize("size", [WIDE, SSH], ids=["120x40", "80x24"])


def _fill(
    coid: str,
    symbol: str,
    qty: int,
    price: str,
    charges: str,
    at: int,
    strategy: str = "momentum",
    side: Side = Side.BUY,
) -> OrderUpdate:
    """A FILLED update carrying its fill, as execution publishes it."""
    update = order(
        coid,
        symbol,
        OrderStatus.FILLED,
        strategy=strategy,
        side=side,
        quantity=qty,
        filled=qty,
        price=price,
        at=at,
    )
    fill = Fill(
        trade_id=f"T-{coid}",
        quantity=qty,
        price=Decimal(price),
        charges=Decimal(charges),
        fill_ts=START_NS + at * NS,
    )
    return msgspec.structs.replace(update, fill=fill)


async def _books_morning(harness: BusHarness) -> None:
    """The fixed morning, plus three fills (one a crore-sized trade) and a risk refusal."""
    await seed(harness)
    orders = topics.orders_events(harness.broker)
    for update in (
        _fill("ord-1", "NSE:INFY", 10, "1500.00", "21.35", -600),
        _fill("ord-4", "NSE:RELIANCE", 5_000, "2450.55", "1234.56", -300, side=Side.SELL),
        _fill("ord-5", "NSE:SBIN", 20, "610.25", "8.04", -120, strategy="mean_revert"),
    ):
        await harness.publish(orders, EventType.ORDER_FILLED, update, key=update.client_order_id)
    signal = Signal(
        signal_id="sig-whale-1",
        strategy="whale",
        instrument_token=738561,
        symbol="NSE:RELIANCE",
        side=Side.BUY,
        quantity=10_000,
        signal_ts=START_NS - 10 * NS,
    )
    refusal = RejectedSignal(
        signal=signal,
        rule="max_order_quantity",
        reason="quantity 10000 exceeds the per-order limit of 1000",
    )
    await harness.publish(
        topics.signals_rejected(harness.broker), EventType.SIGNAL_REJECTED, refusal
    )


def _console() -> tuple[AlphaPandaApp, BusHarness]:
    harness = BusHarness("paper")
    return make_app(harness, operator="trader@desk"), harness


def _opened(harness: BusHarness, *keys: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await eventually(lambda: harness.started)
        await _books_morning(harness)
        await harness.drained()
        pilot.app.refresh_from_model()  # type: ignore[attr-defined]
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await harness.drained()
            await pilot.pause(0.3)  # the book's own redraw timer
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@SIZES
def test_orders_book_with_rejections(snap_compare, size: tuple[int, int]) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=size, run_before=_opened(harness, "o"))


@SIZES
def test_orders_book_rejected_filter(snap_compare, size: tuple[int, int]) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=size, run_before=_opened(harness, "o", "3"))


@SIZES
def test_trade_book(snap_compare, size: tuple[int, int]) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=size, run_before=_opened(harness, "t"))


def test_order_detail(snap_compare) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=WIDE, run_before=_opened(harness, "o", "3", "enter"))
