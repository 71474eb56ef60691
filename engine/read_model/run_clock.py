"""``RunClock``: the run's clock as a console shows it, and how fresh the feed is.

On the simulated (or a replayed) market a session passes in minutes, so the wall clock
says nothing about the orders on screen: there the run's clock is the feed's event time,
marked ``SIM`` (or ``REPLAY``). Feed freshness is a different question, answered on
*arrival* time (a monotonic clock read when a tick reached the console), never by
comparing an event time with the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.clock import NS_PER_S
from engine.market.calendar import NseCalendar

DEFAULT_STALE_AFTER_S = 5.0


class RunClock:
    """Which clock a run shows, the calendar it is judged by, and the feed-silence limit.

    ``label`` None: the wall clock (live trading, paper on live ticks); ``"SIM"`` or
    ``"REPLAY"``: the newest tick's event time. ``monotonic_ns`` is injectable so tests
    decide when a feed has been silent for long enough. A paced replay of a recorded day
    passes ``follows_events=False`` with its ``ReplayClock`` as both the console's clock
    and ``monotonic_ns``: labelled REPLAY, its time and the feed's age are replayed time.
    """

    __slots__ = ("_follows_events", "calendar", "label", "monotonic_ns", "stale_after_s")

    def __init__(
        self,
        *,
        label: str | None = None,
        calendar: NseCalendar | None = None,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        follows_events: bool | None = None,
    ) -> None:
        if stale_after_s <= 0:
            raise ValueError("stale_after_s must be positive")
        self.label = label
        self.calendar = calendar or NseCalendar()
        self.stale_after_s = stale_after_s
        self.monotonic_ns = monotonic_ns
        self._follows_events = label is not None if follows_events is None else follows_events

    @property
    def follows_events(self) -> bool:
        return self._follows_events

    def now_ns(self, wall_ns: int, event_ns: int | None) -> int | None:
        """The run's time: ``wall_ns``, or the newest event time (None before the first tick)."""
        return event_ns if self.follows_events else wall_ns

    def market_status(self, now_ns: int | None) -> str:
        """PRE-OPEN / OPEN / CLOSED / HOLIDAY / WEEKEND from the calendar; "—" when unknown."""
        return "—" if now_ns is None else self.calendar.status(now_ns).value

    def age_s(self, arrival_ns: int | None) -> float | None:
        """Seconds since ``arrival_ns`` (a ``monotonic_ns`` reading), None if never."""
        if arrival_ns is None:
            return None
        return max(0, self.monotonic_ns() - arrival_ns) / NS_PER_S

    def is_stale(self, age_s: float | None) -> bool:
        return age_s is not None and age_s > self.stale_after_s
