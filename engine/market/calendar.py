"""NSE trading calendar: sessions in Asia/Kolkata by *event* time; the exchange's holidays.

The published holiday list is the default; configuration (``ALPHAPANDA_RISK__HOLIDAYS``)
replaces it, so a late NSE circular needs no release.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from engine.clock import IST, NS_PER_S, datetime_to_ns, ns_to_datetime

_WINDOW_MARGIN_NS = 1_000_000  # 1 ms

# NSE equity trading holidays 2026 that fall on weekdays (NSE circular; 15 Jan added for
# the Maharashtra municipal elections): the default of ALPHAPANDA_RISK__HOLIDAYS.
NSE_HOLIDAYS_2026: tuple[date, ...] = (
    date(2026, 1, 15),
    date(2026, 1, 26),
    date(2026, 3, 3),
    date(2026, 3, 26),
    date(2026, 3, 31),
    date(2026, 4, 3),
    date(2026, 4, 14),
    date(2026, 5, 1),
    date(2026, 5, 28),
    date(2026, 6, 26),
    date(2026, 9, 14),
    date(2026, 10, 2),
    date(2026, 10, 20),
    date(2026, 11, 10),
    date(2026, 11, 24),
    date(2026, 12, 25),
)


class MarketStatus(StrEnum):
    PRE_OPEN = "PRE-OPEN"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    HOLIDAY = "HOLIDAY"
    WEEKEND = "WEEKEND"


class NseCalendar:
    """Equity sessions: pre-open 09:00–09:15, normal 09:15–15:30 IST; closed on holidays
    (NSE's published list unless given: the same default the settings use)."""

    def __init__(
        self,
        holidays: Iterable[date] = NSE_HOLIDAYS_2026,
        open_time: time = time(9, 15),
        close_time: time = time(15, 30),
        pre_open_time: time = time(9, 0),
    ) -> None:
        if not pre_open_time <= open_time < close_time:
            raise ValueError("need pre_open <= open < close")
        self.holidays = frozenset(holidays)
        self.open_time = open_time
        self.close_time = close_time
        self.pre_open_time = pre_open_time
        self._open_window = (0, 0)  # UTC ns [start, end) of a session known to be open

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def status(self, ts_ns: int) -> MarketStatus:
        """The market's status at event time ``ts_ns``.

        Risk asks this for every signal; the session last found open is remembered (less
        a millisecond at each end, clear of float rounding in the local-time path), so a
        time inside it is answered with two comparisons instead of a time-zone conversion.
        """
        window = self._open_window
        if window[0] <= ts_ns < window[1]:
            return MarketStatus.OPEN
        local = ns_to_datetime(ts_ns, IST)
        day = local.date()
        if day.weekday() >= 5:
            return MarketStatus.WEEKEND
        if day in self.holidays:
            return MarketStatus.HOLIDAY
        now = local.time()
        if self.open_time <= now < self.close_time:
            start, end = self.session_bounds(day)
            self._open_window = (start + _WINDOW_MARGIN_NS, end - _WINDOW_MARGIN_NS)
            return MarketStatus.OPEN
        if self.pre_open_time <= now < self.open_time:
            return MarketStatus.PRE_OPEN
        return MarketStatus.CLOSED

    def is_open(self, ts_ns: int) -> bool:
        return self.status(ts_ns) is MarketStatus.OPEN

    def session_bounds(self, day: date) -> tuple[int, int]:
        """UTC ns of the normal session's open and close on ``day``."""
        start = datetime.combine(day, self.open_time, tzinfo=IST)
        end = datetime.combine(day, self.close_time, tzinfo=IST)
        return datetime_to_ns(start), datetime_to_ns(end)

    def next_open(self, ts_ns: int) -> int:
        """UTC ns of the next normal-session open at or after ``ts_ns``."""
        local = ns_to_datetime(ts_ns, IST)
        day = local.date()
        for _ in range(60):
            if self.is_trading_day(day):
                start, end = self.session_bounds(day)
                if ts_ns < end:
                    return max(start, ts_ns) if ts_ns >= start else start
            day += timedelta(days=1)
        raise ValueError("no trading day in the next 60 days: check the holiday list")

    def seconds_to_close(self, ts_ns: int) -> float | None:
        if not self.is_open(ts_ns):
            return None
        _, end = self.session_bounds(ns_to_datetime(ts_ns, IST).date())
        return (end - ts_ns) / NS_PER_S
