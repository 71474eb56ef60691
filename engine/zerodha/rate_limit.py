"""Kite's order budget (10/s, 400/min, 5,000/day), enforced before a request leaves.

Zerodha answers an exceeded limit with HTTP 429, and repeated 429s can get the app
blocked by RMS for longer. So every order request (place, modify, cancel) first takes
a slot here: a sliding window per second and per minute makes the caller wait, and
the daily cap refuses with a reason a trader can read. A 429 that still gets through
pauses every sender for a growing back-off instead of retrying at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from engine.clock import IST, NS_PER_S, Clock, SystemClock, ns_to_datetime

log = logging.getLogger("alphapanda.zerodha")
_MINUTE_NS = 60 * NS_PER_S


class OrderBudgetExhausted(RuntimeError):
    """The day's order cap is used up; no further order may be sent today."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Order request limits; Zerodha revises them, so they are configuration."""

    per_second: int = 10
    per_minute: int = 400
    per_day: int = 5000
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    # The "second" we count in. Kite counts arrivals and we count departures, so a budget
    # run at its limit wants a little more than a second to stay clear of network jitter.
    second_s: float = 1.0

    def __post_init__(self) -> None:
        if min(self.per_second, self.per_minute, self.per_day) < 1:
            raise ValueError("order rate limits must be at least 1")
        if not 1.0 <= self.second_s < 2.0:
            raise ValueError("second_s must be at least 1 and under 2 seconds")
        if self.backoff_initial_s <= 0 or self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("need 0 < backoff_initial_s <= backoff_max_s")


class OrderRateLimiter:
    """Sliding-window limiter shared by every order request of one Kite account."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._sent: deque[int] = deque()  # send times within the last minute, oldest first
        self._day: date | None = None
        self._sent_today = 0
        self._paused_until = 0
        self._throttles = 0
        self._lock = asyncio.Lock()
        self.waited_s = 0.0

    @property
    def sent_today(self) -> int:
        self._roll_day(self._clock.now_ns())
        return self._sent_today

    @property
    def remaining_today(self) -> int:
        return max(0, self.limits.per_day - self.sent_today)

    def delay_s(self) -> float:
        """Seconds until the next request may go (0 when a slot is free now)."""
        now = self._clock.now_ns()
        self._roll_day(now)
        self._expire(now)
        wait_until = self._paused_until
        if len(self._sent) >= self.limits.per_minute:
            wait_until = max(wait_until, self._sent[-self.limits.per_minute] + _MINUTE_NS)
        if len(self._sent) >= self.limits.per_second:
            second_ns = int(self.limits.second_s * NS_PER_S)
            wait_until = max(wait_until, self._sent[-self.limits.per_second] + second_ns)
        return max(0, wait_until - now) / NS_PER_S

    async def acquire(self) -> None:
        """Take one slot, waiting while the second or minute window is full.

        Raises ``OrderBudgetExhausted`` when today's cap is reached: waiting would
        not help before 00:00 IST.
        """
        async with self._lock:
            while True:
                if self.sent_today >= self.limits.per_day:
                    raise OrderBudgetExhausted(
                        f"daily order limit reached ({self.limits.per_day} orders today); "
                        "no more orders until tomorrow"
                    )
                delay = self.delay_s()
                if delay <= 0:
                    break
                self.waited_s += delay
                await self._sleep(delay)
            self._sent.append(self._clock.now_ns())
            self._sent_today += 1

    def throttled(self) -> float:
        """Zerodha said 429: pause every sender; each 429 in a row doubles the pause."""
        pause = min(self.limits.backoff_max_s, self.limits.backoff_initial_s * 2**self._throttles)
        self._throttles += 1
        self._paused_until = max(self._paused_until, self._clock.now_ns() + int(pause * NS_PER_S))
        log.warning(
            "kite order rate limit hit (429): pausing order requests", extra={"pause_s": pause}
        )
        return pause

    def accepted(self) -> None:
        """A request got through: the next 429 starts the back-off from the beginning."""
        self._throttles = 0

    def _expire(self, now: int) -> None:
        while self._sent and self._sent[0] <= now - _MINUTE_NS:
            self._sent.popleft()

    def _roll_day(self, now: int) -> None:
        today = ns_to_datetime(now, IST).date()
        if today != self._day:
            self._day = today
            self._sent_today = 0
