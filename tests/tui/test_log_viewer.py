"""Pilot tests: the log viewer shows a line's fields, searches them, follows one order."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest

from engine.domain.records import OrderRecord
from engine.events.payloads import Fill, Signal
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side
from engine.logs.order_story import (
    ACK,
    FILL,
    FINAL,
    INTENT,
    ORDER_LOG,
    SENT,
    VERDICT,
    order_story,
    signal_story,
)
from tests.tui.conftest import Console
from tests.tui.test_no_color import screen_text


def _signal(signal_id: str, symbol: str, token: int) -> Signal:
    return Signal(
        signal_id=signal_id,
        strategy="momentum",
        instrument_token=token,
        symbol=symbol,
        side=Side.BUY,
        quantity=10,
        reference_price=Decimal("1500.00"),
        reason="breakout",
    )


def _order(signal: Signal, status: OrderStatus, filled: int = 0) -> OrderRecord:
    return OrderRecord(
        client_order_id="APinfy0000000000001",
        broker=Broker.PAPER,
        strategy=signal.strategy,
        signal_id=signal.signal_id,
        instrument_token=signal.instrument_token,
        symbol=signal.symbol,
        side=signal.side,
        quantity=signal.quantity,
        order_type=OrderType.MARKET,
        product=Product.MIS,
        status=status,
        filled_quantity=filled,
        broker_order_id="PA-1",
    )


@pytest.fixture
def stories(console: Console) -> Iterator[None]:
    """Two orders told through the engine's own order-story logger into the console's ring."""
    ring = console.harness.log_ring
    assert ring is not None
    ORDER_LOG.addHandler(ring)
    level = ORDER_LOG.level
    ORDER_LOG.setLevel(logging.INFO)
    try:
        infy = _signal("sig-infy", "NSE:INFY", 408065)
        tcs = _signal("sig-tcs", "NSE:TCS", 2953217)
        signal_story(INTENT, infy, status="SIGNAL", broker="paper", reason="breakout")
        signal_story(INTENT, tcs, status="SIGNAL", broker="paper", reason="breakout")
        signal_story(VERDICT, infy, status="APPROVED", broker="paper")
        signal_story(
            VERDICT,
            tcs,
            status="REJECTED",
            broker="paper",
            reason="position would exceed 100",
            rule="max_position",
        )
        order_story(SENT, _order(infy, OrderStatus.PENDING))
        order_story(ACK, _order(infy, OrderStatus.OPEN))
        filled = _order(infy, OrderStatus.FILLED, filled=10)
        order_story(FILL, filled, fill=Fill(trade_id="T1", quantity=10, price=Decimal("1500.5")))
        order_story(FINAL, filled)
        yield
    finally:
        ORDER_LOG.removeHandler(ring)
        ORDER_LOG.setLevel(level)


def _shown(console: Console) -> list[str]:
    return [line.text for line in console.app.dashboard.logs.lines.lines]


async def _search(console: Console, text: str) -> None:
    await console.pilot.press("slash", *text, "enter")
    await console.pilot.pause()


@pytest.mark.usefixtures("stories")
async def test_search_finds_an_order_by_symbol_and_a_line_shows_its_fields(
    console: Console,
) -> None:
    await console.pilot.press("l")
    await console.pilot.pause()
    await _search(console, "INFY")
    shown = _shown(console)
    assert len(shown) == 6 and all("NSE:INFY" in line for line in shown)
    await _search(console, "max_position")  # a field the message does not say
    (rejected,) = _shown(console)
    assert "REJECTED" in rejected and "NSE:TCS" in rejected and "rule=max_position" in rejected


@pytest.mark.usefixtures("stories")
async def test_o_on_a_selected_line_shows_only_that_order_from_intent_to_final(
    console: Console,
) -> None:
    logs = console.app.dashboard.logs
    await console.pilot.press("l")
    await console.pilot.pause()
    total = len(_shown(console))
    await console.pilot.press("k")  # select the newest line: INFY's final state
    detail = str(logs.query_one("#log-detail").render())
    assert "symbol NSE:INFY" in detail and "client_order_id APinfy0000000000001" in detail
    assert "correlation sig-infy" in detail

    await console.pilot.press("o")
    await console.pilot.pause()
    shown = _shown(console)
    stages = [line.split()[3] for line in shown]  # time, level, channel, stage
    assert stages == ["intent", "verdict", "sent", "ack", "fill", "final"]
    assert all("NSE:INFY" in line for line in shown)

    await console.pilot.press("o")  # again: every line
    await console.pilot.pause()
    assert len(_shown(console)) == total


async def test_new_lines_follow_in_the_same_frame_without_laying_out_the_screen(
    console: Console,
) -> None:
    """A chatty engine with the pane open: each frame appends and scrolls the log only."""
    app, harness = console.app, console.harness
    await console.pilot.press("l")
    for n in range(60):  # more lines than the pane shows
        harness.log(logging.INFO, "alphapanda.trading", f"order line {n}", seconds=n)
    app.refresh_from_model()
    await console.pilot.pause()
    lines = app.dashboard.logs.lines
    assert lines.is_vertical_scroll_end
    layouts: list[object] = []
    app.screen.screen_layout_refresh_signal.subscribe(lines, layouts.append)

    for n in range(60, 65):
        harness.log(logging.INFO, "alphapanda.trading", f"order line {n}", seconds=n)
    app.refresh_from_model()
    await console.pilot.pause(0)  # one loop turn and the frame this refresh leads to

    assert layouts == []
    assert lines.is_vertical_scroll_end  # followed within the frame
    assert "order line 64" in screen_text(app)

    await console.pilot.press("f")  # stop following: new lines leave the view where it is
    top = lines.scroll_y
    harness.log(logging.INFO, "alphapanda.trading", "order line 65", seconds=65)
    app.refresh_from_model()
    await console.pilot.pause()
    assert lines.scroll_y == top and "order line 65" not in screen_text(app)
