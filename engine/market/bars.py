"""Time bars from ticks: the one aggregator live, replay and backtest all use.

Bars are aligned as Kite aligns its candles: intraday intervals count from the session's
open (09:15 IST, so 60-minute bars start 09:15, 10:15, ... and the last one, 15:15, is cut
at the 15:30 close); a ``day`` bar is the whole session. Ticks outside the normal session
(pre-open, after the close, weekends, holidays) belong to no bar, as they belong to no
Kite candle.

A bar closes by event time, never by the wall clock: when any tick arrives at or after its
end (a later tick of the same instrument, or of any other one, since time is shared).
So the session's last bar is delivered by the first tick after the close (the next
morning's, in a replay of consecutive days). Volume is the rise of Kite's cumulative day
volume across the bar; the first bar seen in a session counts from the first tick's own
traded quantity, so a console started mid-day does not book the morning in one bar.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

import msgspec

from engine.clock import IST, NS_PER_S, ns_to_datetime
from engine.events.payloads import Tick
from engine.market.calendar import NseCalendar

DAY: Final = "day"
INTRADAY_SECONDS: Final[dict[str, int]] = {
    "minute": 60,
    "3minute": 180,
    "5minute": 300,
    "10minute": 600,
    "15minute": 900,
    "30minute": 1_800,
    "60minute": 3_600,
}
INTERVALS: Final[tuple[str, ...]] = (*INTRADAY_SECONDS, DAY)  # Kite's names, shortest first


class Bar(msgspec.Struct, frozen=True, gc=False):
    """One closed time bar of one instrument: UTC ns [start_ns, end_ns)."""

    instrument_token: int
    symbol: str
    interval: str
    start_ns: int
    end_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int = 0
    oi: int | None = None


def check_interval(interval: str) -> str:
    """``interval`` when it is one of Kite's candle intervals; else a ValueError naming them."""
    if interval not in INTERVALS:
        raise ValueError(f"unknown bar interval {interval!r}: choose from {', '.join(INTERVALS)}")
    return interval


class SessionBuckets:
    """Maps an event time to its bar window [start, end) in its session, or None outside.

    The last session looked up is remembered: ticks arrive in time order, so nearly every
    lookup is two comparisons and a division.
    """

    def __init__(self, interval: str, calendar: NseCalendar | None = None) -> None:
        self.interval = check_interval(interval)
        self.calendar = calendar or NseCalendar()
        self._step_ns = INTRADAY_SECONDS.get(interval, 0) * NS_PER_S
        self._session = (0, 0)

    def window(self, ts_ns: int) -> tuple[int, int, int] | None:
        """(start, end, session open) of the bar holding ``ts_ns``; None out of session."""
        open_ns, close_ns = self._session
        if not open_ns <= ts_ns < close_ns:
            bounds = self.session_of(ns_to_datetime(ts_ns, IST).date())
            if bounds is None or not bounds[0] <= ts_ns < bounds[1]:
                return None
            self._session = open_ns, close_ns = bounds
        if not self._step_ns:
            return open_ns, close_ns, open_ns
        start = open_ns + (ts_ns - open_ns) // self._step_ns * self._step_ns
        return start, min(start + self._step_ns, close_ns), open_ns

    def session_of(self, day: date) -> tuple[int, int] | None:
        """UTC ns of ``day``'s session, or None on a weekend or holiday."""
        return self.calendar.session_bounds(day) if self.calendar.is_trading_day(day) else None


class _Building:
    """The open bar of one instrument, updated in place for every tick."""

    __slots__ = (
        "base_volume",
        "close",
        "end",
        "high",
        "low",
        "oi",
        "open",
        "session",
        "start",
        "volume",
    )

    def __init__(self, tick: Tick, window: tuple[int, int, int], base_volume: int) -> None:
        price = tick.last_price
        self.start, self.end, self.session = window
        self.open = self.high = self.low = self.close = price
        self.base_volume = base_volume
        self.volume = tick.volume
        self.oi = tick.oi

    def add(self, tick: Tick) -> None:
        price = tick.last_price
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.volume = tick.volume
        self.oi = tick.oi


class BarAggregator:
    """Builds bars of one interval for many instruments from ticks in time order.

    ``on_tick`` returns the bars the tick's time closed (of any instrument, in token
    order), then folds the tick into its own instrument's bar. ``tokens`` limits which
    instruments are built (None: every one).
    """

    def __init__(
        self,
        interval: str,
        *,
        calendar: NseCalendar | None = None,
        tokens: frozenset[int] | None = None,
    ) -> None:
        self.buckets = SessionBuckets(interval, calendar)
        self.interval = interval
        self.tokens = tokens
        self._open: dict[int, _Building] = {}
        self._symbols: dict[int, str] = {}
        self._closed_volume: dict[int, tuple[int, int]] = {}  # token -> (session open, cum)
        self._closed_end: dict[int, int] = {}  # token -> end of its last closed bar
        self._next_end = 1 << 62  # earliest end of any open bar
        self.late_ticks = 0  # ticks older than their instrument's last closed bar, dropped

    def on_tick(self, tick: Tick) -> list[Bar]:
        """Bars closed by ``tick``'s time (usually none), after which it is folded in."""
        ts = tick.exchange_ts
        closed = self.close_until(ts) if ts >= self._next_end else []
        token = tick.instrument_token
        if self.tokens is not None and token not in self.tokens:
            return closed
        building = self._open.get(token)
        if building is not None:
            building.add(tick)  # close_until removed it if its time had passed
            return closed
        if ts < self._closed_end.get(token, 0):
            # Another instrument's later tick closed this one's bar before this tick was
            # read (a consumer takes a batch partition by partition, not in time order).
            # Its bar is out; folding it in would open a second bar for the same window.
            self.late_ticks += 1
            return closed
        window = self.buckets.window(ts)
        if window is None:
            return closed
        self._symbols[token] = tick.symbol
        self._open[token] = _Building(tick, window, self._base_volume(token, tick, window[2]))
        if window[1] < self._next_end:
            self._next_end = window[1]
        return closed

    def close_until(self, ts_ns: int) -> list[Bar]:
        """Close and return every open bar that ended at or before ``ts_ns``."""
        due = sorted(token for token, b in self._open.items() if b.end <= ts_ns)
        bars = [self._close(token) for token in due]
        self._next_end = min((b.end for b in self._open.values()), default=1 << 62)
        return bars

    def flush(self) -> list[Bar]:
        """Close every open bar now (the end of a backtest's data), in token order."""
        return self.close_until(1 << 62)

    def _close(self, token: int) -> Bar:
        b = self._open.pop(token)
        self._closed_volume[token] = (b.session, b.volume)
        self._closed_end[token] = b.end
        return Bar(
            token,
            self._symbols[token],
            self.interval,
            b.start,
            b.end,
            b.open,
            b.high,
            b.low,
            b.close,
            max(0, b.volume - b.base_volume),
            b.oi,
        )

    def _base_volume(self, token: int, tick: Tick, session: int) -> int:
        """Cumulative volume before this bar: the last closed bar's in the same session,
        else what the day had traded before this tick."""
        previous = self._closed_volume.get(token)
        if previous is not None and previous[0] == session:
            return previous[1]
        return tick.volume - tick.last_quantity
