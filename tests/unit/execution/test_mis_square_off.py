"""MIS positions are squared off at their segment's cut-off, in event time; CNC carries over."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal as D

import pytest

from engine.clock import IST, datetime_to_ns
from engine.events import EventType as E
from engine.events.types import Product, Side, TradingMode
from engine.market.square_off import MisCutoffs
from tests.unit.execution.conftest import TOKEN, Harness, make_signal, types_of


def at(day: int, hh: int, mm: int, ss: int = 0) -> int:
    return datetime_to_ns(datetime(2024, 1, day, hh, mm, ss, tzinfo=IST))


async def bought(harness: Harness, product: Product = Product.MIS, hh: int = 10) -> Harness:
    """``harness`` started, holding 10 bought at 100 at ``hh``:00 on 2024-01-02."""
    await harness.service.on_start()
    await harness.signal(make_signal("buy", Side.BUY, quantity=10, product=product))
    await harness.tick("100", ask="100", ts=at(2, hh, 0))
    assert harness.service.net_positions == {("ema", TOKEN): 10}
    return harness


async def _holding(cutoffs: MisCutoffs, product: Product = Product.MIS) -> Harness:
    return await bought(Harness(mis_cutoffs=cutoffs), product)


def submitted(events):  # type: ignore[no-untyped-def]
    return [e.data for e in events if e.type is E.ORDER_SUBMITTED]


async def test_an_mis_position_is_sold_at_the_first_tick_at_the_1515_cutoff() -> None:
    harness = await _holding(MisCutoffs())

    before = await harness.tick("101", bid="101", ts=at(2, 15, 14, 59))
    crossing = await harness.tick("102", bid="102", ts=at(2, 15, 15, 0))
    later = await harness.tick("103", bid="103", ts=at(2, 15, 16))

    assert submitted(before) == [] and submitted(later) == []
    [order] = submitted(crossing)
    assert (order.side, order.quantity, order.product) == (Side.SELL, 10, Product.MIS)
    fills = [e.data.fill for e in crossing if e.type is E.ORDER_FILLED]
    assert [f.price for f in fills] == [D("102")]  # on the tick that crossed the cut-off
    alerts = [e.data.message for e in crossing if e.type is E.RISK_ALERT]
    assert alerts == [
        "MIS square-off at the NSE MIS cut-off 15:15 IST on 2024-01-02: SELL 10 NSE:INFY "
        "at market for ema (held +10)"
    ]
    assert harness.service.net_positions == {("ema", TOKEN): 0}


async def test_a_cnc_position_carries_over_the_cutoff_and_the_night() -> None:
    harness = await _holding(MisCutoffs(), Product.CNC)

    events = await harness.tick("102", bid="102", ts=at(2, 15, 20))
    events += await harness.tick("103", bid="103", ts=at(3, 9, 15))

    assert submitted(events) == []
    assert harness.service.net_positions == {("ema", TOKEN): 10}


async def test_the_square_off_goes_out_while_trading_is_halted() -> None:
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.HALTED, reason="daily loss limit breached")

    events = await harness.tick("99", bid="99", ts=at(2, 15, 30))

    assert types_of(events).count(E.ORDER_FILLED) == 1
    assert harness.service.net_positions == {("ema", TOKEN): 0}


async def test_the_cutoff_is_a_setting_per_segment() -> None:
    later = MisCutoffs({"NSE": time(15, 25)})
    harness = await _holding(later)

    at_1515 = await harness.tick("101", bid="101", ts=at(2, 15, 16))
    at_1525 = await harness.tick("101", bid="101", ts=at(2, 15, 25))

    assert submitted(at_1515) == []
    assert [o.quantity for o in submitted(at_1525)] == [10]


async def test_a_segment_without_a_cutoff_is_left_to_the_broker() -> None:
    harness = await _holding(MisCutoffs({"MCX": time(23, 30)}))

    events = await harness.tick("101", bid="101", ts=at(2, 15, 29))

    assert submitted(events) == []


async def test_a_day_skipped_past_its_cutoff_squares_off_on_the_next_days_first_tick() -> None:
    harness = await _holding(MisCutoffs())

    events = await harness.tick("104", bid="104", ts=at(3, 9, 15))

    assert [(o.side, o.quantity) for o in submitted(events)] == [(Side.SELL, 10)]


async def test_a_replayed_crossing_tick_sends_no_second_order() -> None:
    harness = await _holding(MisCutoffs())
    first = await harness.tick("102", bid="102", ts=at(2, 15, 15))
    again = Harness(mis_cutoffs=MisCutoffs())  # a restarted process over the same store
    again.store = harness.store
    again.service = again.build()
    await again.service.on_start()

    events = await again.tick("102", bid="102", ts=at(2, 15, 16))

    assert len(submitted(first)) == 1
    assert submitted(events) == []  # the position is flat: nothing to square off


@pytest.mark.parametrize("table", [{}, {"NSE": time(15, 15)}])
def test_a_table_with_no_segments_is_off(table) -> None:  # type: ignore[no-untyped-def]
    assert bool(MisCutoffs(table)) is bool(table)
