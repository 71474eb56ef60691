"""MIS positions are squared off at their segment's cut-off, in event time; CNC carries over."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal as D

import msgspec
import pytest

from engine.clock import IST, datetime_to_ns
from engine.events import EventType as E
from engine.events.types import OrderCommandAction, Product, Side, TradingMode
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


def alerts_of(events):  # type: ignore[no-untyped-def]
    return [e.data for e in events if e.type is E.RISK_ALERT]


async def test_a_halted_strategy_sends_no_square_off_and_the_operator_is_told_once() -> None:
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.HALTED, reason="daily loss limit breached")

    crossing = await harness.tick("99", bid="99", ts=at(2, 15, 15))
    later = await harness.tick("98", bid="98", ts=at(2, 15, 16))

    assert submitted(crossing) == [] and submitted(later) == []
    assert harness.service.net_positions == {("ema", TOKEN): 10}
    [alert] = alerts_of(crossing)
    assert alert.severity.value == "CRITICAL"
    assert "held" in alert.message and "HALTED (daily loss limit breached)" in alert.message
    assert "+10" in alert.message
    assert "else the paper venue squares it off at 15:20 IST, as Zerodha does" in alert.message
    assert alerts_of(later) == []  # told once, not on every tick


async def test_a_held_square_off_goes_out_on_the_first_tick_after_resume() -> None:
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.HALTED, reason="kill switch")
    await harness.tick("99", bid="99", ts=at(2, 15, 15))

    harness.state.set(TradingMode.ACTIVE)
    resumed = await harness.tick("97", bid="97", ts=at(2, 15, 17))
    after = await harness.tick("96", bid="96", ts=at(2, 15, 18))

    [order] = submitted(resumed)
    assert (order.side, order.quantity) == (Side.SELL, 10)
    assert "held while HALTED" in order.reason
    assert [e.data.fill.price for e in resumed if e.type is E.ORDER_FILLED] == [D("97")]
    assert submitted(after) == []
    assert harness.service.net_positions == {("ema", TOKEN): 0}


async def test_reducing_lets_the_square_off_out_at_the_cutoff() -> None:
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.REDUCING, reason="operator")

    events = await harness.tick("99", bid="99", ts=at(2, 15, 30))

    assert types_of(events).count(E.ORDER_FILLED) == 1
    assert harness.service.net_positions == {("ema", TOKEN): 0}


async def test_a_kill_pressed_as_the_square_off_leaves_still_stops_it() -> None:
    """The trading state is read again just before the order leaves, as for any order."""
    harness = await _holding(MisCutoffs())
    service = harness.service
    real_flatten = service._flatten

    async def halted_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        harness.state.set(TradingMode.HALTED, reason="kill switch")
        return await real_flatten(*args, **kwargs)

    service._flatten = halted_meanwhile  # type: ignore[method-assign]  # the race, forced
    events = await harness.tick("99", bid="99", ts=at(2, 15, 15))

    assert types_of(events).count(E.ORDER_FILLED) == 0
    assert harness.service.net_positions == {("ema", TOKEN): 10}


async def test_a_held_position_closed_by_hand_is_not_squared_off_on_resume() -> None:
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.HALTED, reason="kill switch")
    await harness.tick("99", bid="99", ts=at(2, 15, 15))
    await harness.command(OrderCommandAction.SQUARE_OFF_ALL, reason="exit by hand")
    await harness.tick("99", bid="99", ts=at(2, 15, 16))  # the operator's exit fills
    assert harness.service.net_positions == {("ema", TOKEN): 0}

    harness.state.set(TradingMode.ACTIVE)
    resumed = await harness.tick("97", bid="97", ts=at(2, 15, 17))

    assert submitted(resumed) == []
    assert harness.service.net_positions == {("ema", TOKEN): 0}


async def test_a_carried_paper_position_found_while_halted_is_held_too() -> None:
    """A process restarted on a later day, HALTED, finds an MIS position carried over."""
    harness = await _holding(MisCutoffs())
    again = Harness(mis_cutoffs=MisCutoffs())  # restarted over the same store
    again.store = harness.store
    again.service = again.build()
    await again.service.on_start()
    again.state.set(TradingMode.HALTED, reason="kill switch")

    next_day = await again.tick("104", bid="104", ts=at(3, 9, 15))
    again.state.set(TradingMode.ACTIVE)
    resumed = await again.tick("105", bid="105", ts=at(3, 9, 16))

    assert submitted(next_day) == []
    assert [a.severity.value for a in alerts_of(next_day)] == ["CRITICAL"]
    assert "carried from 2024-01-02" in alerts_of(next_day)[0].message
    assert [(o.side, o.quantity) for o in submitted(resumed)] == [(Side.SELL, 10)]


async def test_the_paper_venue_squares_off_at_1520_what_a_halted_engine_held() -> None:
    """Zerodha closes open MIS itself at 15:20 for ₹50 + GST an order; paper does too."""
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.HALTED, reason="kill switch")
    held = await harness.tick("99", bid="99", ts=at(2, 15, 15))
    just_before = await harness.tick("99", bid="99", ts=at(2, 15, 19, 59))

    venue = await harness.tick("98", bid="98", ts=at(2, 15, 20))

    assert submitted(held) == [] and submitted(just_before) == []
    [order] = submitted(venue)
    assert (order.side, order.quantity) == (Side.SELL, 10)
    assert "paper venue: Zerodha's NSE auto square-off 15:20 IST" in order.reason
    [fill] = [e.data.fill for e in venue if e.type is E.ORDER_FILLED]
    assert fill.price == D("98")
    plain = harness.service.adapter.broker.charges.compute(  # type: ignore[attr-defined]
        Side.SELL, 10, D("98"), Product.MIS, brokerage_charged=D("0")
    )
    assert fill.charges == plain.total + D("59.00")  # call and trade: ₹50 + 18% GST
    assert harness.service.net_positions == {("ema", TOKEN): 0}
    harness.state.set(TradingMode.ACTIVE)
    assert submitted(await harness.tick("97", bid="97", ts=at(2, 15, 21))) == []


async def test_the_venue_has_nothing_to_do_after_the_engines_own_square_off() -> None:
    harness = await _holding(MisCutoffs())

    engine = await harness.tick("101", bid="101", ts=at(2, 15, 15))
    venue = await harness.tick("101", bid="101", ts=at(2, 15, 20))

    assert len(submitted(engine)) == 1 and "paper venue" not in submitted(engine)[0].reason
    assert submitted(venue) == []


async def test_the_cutoff_is_a_setting_per_segment() -> None:
    later = MisCutoffs({"NSE": time(15, 25)})
    harness = await _holding(later)

    at_1515 = await harness.tick("101", bid="101", ts=at(2, 15, 16))
    at_1525 = await harness.tick("101", bid="101", ts=at(2, 15, 25))

    assert submitted(at_1515) == []
    assert [o.quantity for o in submitted(at_1525)] == [10]


async def test_a_segment_without_a_cutoff_is_left_to_the_broker() -> None:
    """No engine cut-off for NSE: nothing at 15:15; the (paper) broker's own at 15:20."""
    harness = await _holding(MisCutoffs({"MCX": time(23, 30)}))

    at_1515 = await harness.tick("101", bid="101", ts=at(2, 15, 19))
    at_1520 = await harness.tick("101", bid="101", ts=at(2, 15, 20))

    assert submitted(at_1515) == []
    [order] = submitted(at_1520)
    assert order.quantity == 10 and order.reason.startswith("paper venue: Zerodha's")


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


def rejected(events):  # type: ignore[no-untyped-def]
    return [e.data for e in events if e.type is E.ORDER_REJECTED]


def cancelled(events):  # type: ignore[no-untyped-def]
    """Refused before it left: cancelled, so it never counts as a broker rejection."""
    return [e.data for e in events if e.type is E.ORDER_CANCELLED]


async def test_a_strategy_exit_in_flight_at_the_cutoff_does_not_sell_a_second_time() -> None:
    """Seen in the console: at 15:15 momentum's 5-minute bar closed with an exit of its +5
    TCS, which risk approved as an exit while the position was still open; execution had
    just squared the same +5 off on that tick, sent the exit too, and the strategy was
    short 5 until the paper venue bought them back at 15:20 for ₹59 more."""
    harness = await _holding(MisCutoffs())
    await harness.tick("102", bid="102", ts=at(2, 15, 15))
    assert harness.service.net_positions == {("ema", TOKEN): 0}  # squared off

    late_exit = await harness.signal(make_signal("exit", Side.SELL, quantity=10))
    later = await harness.tick("101", bid="101", ask="101", ts=at(2, 15, 16))

    assert submitted(late_exit) == [] and submitted(later) == []
    assert rejected(late_exit) == []  # not a rejection: five in a row would halt trading
    [order] = cancelled(late_exit)
    assert order.reason.startswith(
        "no new MIS entries after the NSE MIS cut-off 15:15 IST on 2024-01-02: SELL 10 NSE:INFY"
    )
    assert harness.service.net_positions == {("ema", TOKEN): 0}  # flat, not short 10


async def test_an_exit_after_the_cutoff_that_closes_a_held_position_is_sent() -> None:
    """What the square-off has not closed (held while HALTED) a strategy may still exit."""
    harness = await _holding(MisCutoffs())
    harness.state.set(TradingMode.HALTED, reason="kill switch")
    await harness.tick("99", bid="99", ts=at(2, 15, 15))
    harness.state.set(TradingMode.ACTIVE)

    exit_ = await harness.signal(make_signal("exit", Side.SELL, quantity=10))
    after = await harness.tick("98", bid="98", ts=at(2, 15, 16))

    [order] = submitted(exit_)
    assert (order.side, order.quantity, order.strategy) == (Side.SELL, 10, "ema")
    assert submitted(after) == []  # the held square-off finds it closing: nothing more
    assert harness.service.net_positions == {("ema", TOKEN): 0}


async def test_mis_entries_reopen_at_the_next_session() -> None:
    harness = await _holding(MisCutoffs())
    await harness.tick("102", bid="102", ts=at(2, 15, 15))

    events = await harness.signal(make_signal("next-day", Side.BUY, quantity=10))
    assert cancelled(events)
    await harness.tick("100", ask="100", ts=at(3, 9, 15))
    events = await harness.signal(make_signal("next-day-2", Side.BUY, quantity=10))
    events += await harness.tick("100", ask="100", ts=at(3, 9, 16))

    assert cancelled(events) == [] and len(submitted(events)) == 1
    assert harness.service.net_positions == {("ema", TOKEN): 10}


async def test_the_next_sessions_first_entry_is_not_refused_before_its_first_tick() -> None:
    """Seen in the console: at 09:15 ema-cross's bar (closed by the session's first tick)
    signalled a BUY that reached execution before that tick did; it was refused as after
    yesterday's 15:15 cut-off."""
    harness = await _holding(MisCutoffs())
    await harness.tick("102", bid="102", ts=at(2, 15, 15))
    await harness.tick("102", bid="102", ts=at(2, 15, 29))  # the day's last tick

    signal = make_signal("morning", Side.BUY, quantity=10)
    events = await harness.signal(msgspec.structs.replace(signal, signal_ts=at(3, 9, 15)))
    events += await harness.tick("100", ask="100", ts=at(3, 9, 15, 1))

    assert cancelled(events) == [] and len(submitted(events)) == 1
    assert harness.service.net_positions == {("ema", TOKEN): 10}
