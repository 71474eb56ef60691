"""The calendar's remembered open session answers exactly as the full computation does."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.market.calendar import MarketStatus, NseCalendar

HOLIDAY = date(2024, 1, 26)


def _at(day: date, clock: time) -> int:
    return datetime_to_ns(datetime.combine(day, clock, tzinfo=IST))


def test_status_with_the_remembered_session_matches_a_fresh_calendar_everywhere() -> None:
    warm = NseCalendar([HOLIDAY])
    start = _at(date(2024, 1, 24), time(8, 0))
    # Every 7 minutes for five days (a holiday and a weekend included), and around every
    # session edge to the nanosecond.
    moments = [start + n * 7 * 60 * NS_PER_S for n in range(5 * 24 * 60 // 7)]
    for offset in range(5):
        day = date(2024, 1, 24) + timedelta(days=offset)
        for edge in (time(9, 0), time(9, 15), time(15, 30)):
            at = _at(day, edge)
            moments += [at - 1_000_000, at - 1, at, at + 1, at + 1_000_000]
    for ts in moments:
        assert warm.status(ts) is NseCalendar([HOLIDAY]).status(ts), ts


def test_open_session_edges() -> None:
    calendar = NseCalendar()
    day = date(2024, 1, 24)
    assert calendar.status(_at(day, time(9, 15)) + 10) is MarketStatus.OPEN  # remembers it
    assert calendar.status(_at(day, time(9, 15)) - 1_000) is MarketStatus.PRE_OPEN
    assert calendar.status(_at(day, time(15, 30))) is MarketStatus.CLOSED
    assert calendar.status(_at(day, time(15, 30)) - 1_000) is MarketStatus.OPEN


def test_the_default_calendar_knows_nse_holidays_and_a_given_list_replaces_them() -> None:
    republic_day = _at(date(2026, 1, 26), time(10, 0))  # a Monday
    assert NseCalendar().status(republic_day) is MarketStatus.HOLIDAY
    assert NseCalendar([HOLIDAY]).status(republic_day) is MarketStatus.OPEN
