"""Trading days by event time: which session a timestamp belongs to.

Day P&L and the daily loss limit reset at the next session, not at midnight and not by
the wall clock: a trading day runs from its pre-open to the next trading day's pre-open,
so an evening, a weekend or a holiday still belongs to the last session. The window of
the day last asked about is remembered, so a time inside it is two comparisons (risk and
the portfolio ask for every tick).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine.clock import IST, datetime_to_ns, ns_to_datetime
from engine.market.calendar import NseCalendar

_SEARCH_DAYS = 60  # longer than any exchange closure


@dataclass(frozen=True, slots=True)
class DayWindow:
    """One trading day: UTC ns [start_ns, end_ns), pre-open to the next pre-open."""

    day: date
    start_ns: int
    end_ns: int

    @property
    def label(self) -> str:
        """ISO date: sorts like the days, travels on the wire as a string."""
        return self.day.isoformat()


class TradingDays:
    """Maps event times to trading-day windows of one calendar."""

    def __init__(self, calendar: NseCalendar | None = None) -> None:
        self.calendar = calendar or NseCalendar()
        self._last: DayWindow | None = None

    def window(self, ts_ns: int) -> DayWindow:
        """The trading day ``ts_ns`` belongs to (the last session started at or before it)."""
        last = self._last
        if last is not None and last.start_ns <= ts_ns < last.end_ns:
            return last
        local = ns_to_datetime(ts_ns, IST)
        day = local.date()
        if not (self.calendar.is_trading_day(day) and ts_ns >= self._start(day)):
            day = self._step(day, -1)
        window = self.window_of(day)
        self._last = window
        return window

    def window_of(self, day: date) -> DayWindow:
        """The window of trading day ``day``."""
        return DayWindow(day, self._start(day), self._start(self._step(day, 1)))

    def _start(self, day: date) -> int:
        return datetime_to_ns(datetime.combine(day, self.calendar.pre_open_time, tzinfo=IST))

    def _step(self, day: date, direction: int) -> date:
        """The nearest trading day strictly before (-1) or after (+1) ``day``."""
        for _ in range(_SEARCH_DAYS):
            day += timedelta(days=direction)
            if self.calendar.is_trading_day(day):
                return day
        raise ValueError(f"no trading day within {_SEARCH_DAYS} days of {day}: check holidays")
