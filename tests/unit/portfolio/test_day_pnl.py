"""Day P&L: today's part of the book's figures, by trading day at event time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import IST, datetime_to_ns
from engine.events.types import Broker, Side
from engine.portfolio.book import PortfolioBook
from tests.unit.portfolio.test_book import START, TOKENS, fill, prices

MONDAY = date(2024, 6, 3)


def at(day: int, seconds: int = 0, clock: time = time(10, 0)) -> int:
    """UTC ns of trading day ``day`` (0 = Monday 3 June 2024, weekdays only) at ``clock``."""
    when = datetime.combine(MONDAY + timedelta(days=day), clock, tzinfo=IST)
    return datetime_to_ns(when + timedelta(seconds=seconds))


def test_a_loss_on_day_one_does_not_count_on_day_two() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.apply_fill(fill("t1", Side.BUY, 10, "100", "2", ts=at(0)))
    book.apply_fill(fill("t2", Side.SELL, 10, "90", "2", ts=at(0, 60)))
    day_one = book.snapshot(0)
    assert (day_one.trading_day, day_one.day_pnl) == ("2024-06-03", D("-104"))

    book.mark(101, D("95"), ts=at(1))  # the first tick of Tuesday's session
    day_two = book.snapshot(0)

    assert day_two.trading_day == "2024-06-04"
    assert (day_two.day_realized_pnl, day_two.day_charges, day_two.day_pnl) == (0, 0, 0)
    assert day_two.realized_pnl - day_two.charges == D("-104")  # overall still counts it
    assert [(d.day, d.pnl) for d in book.history] == [("2024-06-03", D("-104"))]


def test_a_carried_position_counts_from_the_previous_close() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.apply_fill(fill("t1", Side.BUY, 10, "100", ts=at(0)))
    book.mark(101, D("80"), ts=at(0, 30))  # down ₹200 on Monday
    book.mark(101, D("85"), close=D("81"), ts=at(1))  # Tuesday: previous close 81

    snap = book.snapshot(0)

    assert snap.unrealized_pnl == D("-150")
    assert snap.day_pnl == D("40")  # (85 - 81) × 10
    book.apply_fill(fill("t2", Side.SELL, 10, "86", "1", ts=at(1, 5)))
    assert book.snapshot(0).day_pnl == D("49")  # (86 - 81) × 10 - 1


def test_without_a_close_the_carried_position_counts_from_the_last_price() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.apply_fill(fill("t1", Side.SELL, 5, "100", ts=at(0)))
    book.mark(101, D("110"), ts=at(0, 30))
    book.mark(101, D("104"), ts=at(1))

    assert book.snapshot(0).day_pnl == D("30")  # a short: (110 - 104) × 5


def test_the_day_turns_at_the_pre_open_and_a_weekend_belongs_to_friday() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.mark(101, D("100"), ts=at(4, clock=time(15, 0)))  # Friday
    book.mark(101, D("100"), ts=at(5, clock=time(12, 0)))  # Saturday
    book.mark(101, D("100"), ts=at(7, clock=time(8, 59)))  # Monday before the pre-open
    assert book.snapshot(0).trading_day == "2024-06-07"
    book.mark(101, D("100"), ts=at(7, clock=time(9, 0)))
    assert book.snapshot(0).trading_day == "2024-06-10"


def test_a_late_fill_of_yesterday_before_any_of_today_is_yesterdays() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.mark(101, D("100"), ts=at(1))  # Tuesday has begun
    book.apply_fill(fill("t1", Side.BUY, 10, "100", "3", ts=at(0, 600)))  # Monday's, late
    assert book.snapshot(0).day_pnl == 0
    book.apply_fill(fill("t2", Side.SELL, 5, "101", "1", ts=at(1, 5)))
    book.apply_fill(fill("t3", Side.SELL, 5, "102", "1", ts=at(0, 700)))  # after today's: today
    assert book.snapshot(0).day_pnl == D("5") + D("10") - D("2")


# -- properties -------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # trading day, Monday to Thursday
        st.booleans(),  # a fill (True) or a tick
        st.sampled_from(("ema", "rsi")),
        st.sampled_from(TOKENS),
        st.sampled_from(Side),
        st.integers(min_value=1, max_value=500),
        prices,
        st.integers(min_value=0, max_value=2_000).map(lambda paise: D(paise) / 100),
    ),
    max_size=50,
).map(lambda items: sorted(items, key=lambda item: item[0]))


@settings(max_examples=150, deadline=None)
@given(events)
def test_day_pnl_is_the_change_in_equity_since_the_session_began(items) -> None:
    book = PortfolioBook(Broker.PAPER, START)
    fills = []
    start_equity, day = START, None
    for n, (d, is_fill, strategy, token, side, qty, price, charges) in enumerate(items):
        if d != day:
            start_equity, day = book.equity, d  # where the day begins: yesterday's marks
        ts = at(d, n)
        if is_fill:
            record = fill(f"t{n}", side, qty, price, charges, strategy=strategy, token=token, ts=ts)
            fills.append(record)
            book.apply_fill(record)
        else:
            book.mark(token, price, ts=ts)
        snap = book.snapshot(0)
        assert snap.day_pnl == book.equity - start_equity
        assert snap.trading_day == (MONDAY + timedelta(days=d)).isoformat()
    overall = START + sum((r.pnl for r in book.history), D(0)) + book.day_result().pnl
    assert overall == book.equity  # the days add up to the whole

    rebuilt = PortfolioBook(Broker.PAPER, START)  # a restart: the last tick, then the journal
    if day is not None:
        rebuilt.mark(TOKENS[0], D("1"), ts=at(day, 0))
        rebuilt.marks.clear()
    rebuilt.rebuild(fills)
    once, again = book.snapshot(0), rebuilt.snapshot(0)
    assert (again.day_realized_pnl, again.day_charges) == (once.day_realized_pnl, once.day_charges)
    assert again.trading_day == once.trading_day
