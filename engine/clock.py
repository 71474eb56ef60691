"""Injected clocks, so strategies, risk and backtests never read the wall clock themselves."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
NS_PER_S = 1_000_000_000


class Clock(Protocol):
    """A source of the current time in UTC nanoseconds."""

    def now_ns(self) -> int: ...


class SystemClock:
    """The wall clock, used only at the edges (feeds, the console)."""

    def now_ns(self) -> int:
        return time.time_ns()


class ManualClock:
    """A clock that moves only when told: deterministic tests and replays."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set_ns(self, value: int) -> None:
        self._now = value

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * NS_PER_S)


class EventClock:
    """The run's clock on a simulated or replayed market: the newest event time its
    sources have seen (the feed's, the read model's), the ``fallback`` before the first.

    For what a trader reads (a state change's time, an audit row); timeouts, leases and
    staleness checks stay on the wall or monotonic clock.
    """

    def __init__(
        self, sources: Sequence[Callable[[], int | None]], fallback: Clock | None = None
    ) -> None:
        self._sources = tuple(sources)
        self._fallback = fallback or SystemClock()

    def now_ns(self) -> int:
        seen = [ts for ts in (source() for source in self._sources) if ts]
        return max(seen) if seen else self._fallback.now_ns()


def ns_to_datetime(ts_ns: int, tz: ZoneInfo | None = None) -> datetime:
    """UTC nanoseconds to an aware datetime (UTC unless ``tz`` is given)."""
    dt = datetime.fromtimestamp(ts_ns / NS_PER_S, tz=UTC)
    return dt.astimezone(tz) if tz else dt


def datetime_to_ns(dt: datetime) -> int:
    """Aware datetime to UTC nanoseconds; naive datetimes are rejected to avoid guessing zones."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone (Kite tick times are Asia/Kolkata)")
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000
