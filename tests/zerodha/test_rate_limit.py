"""The order budget: waits inside the second and minute windows, refuses past the daily cap."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.clock import IST, ManualClock, datetime_to_ns
from engine.zerodha.rate_limit import OrderBudgetExhausted, OrderRateLimiter, RateLimits

MORNING = datetime_to_ns(datetime(2026, 11, 25, 9, 30, tzinfo=IST))


class Harness:
    """A limiter whose sleeps advance the manual clock and are recorded."""

    def __init__(self, limits: RateLimits) -> None:
        self.clock = ManualClock(MORNING)
        self.slept: list[float] = []
        self.limiter = OrderRateLimiter(limits, clock=self.clock, sleep=self._sleep)

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)

    async def send(self, n: int) -> list[int]:
        """Acquire ``n`` slots; returns each send's time in ms since the start."""
        times = []
        for _ in range(n):
            await self.limiter.acquire()
            times.append((self.clock.now_ns() - MORNING) // 1_000_000)
        return times


async def test_eleventh_order_in_a_second_waits_for_the_window() -> None:
    h = Harness(RateLimits(per_second=10, per_minute=400, per_day=5000))
    times = await h.send(11)
    assert times[:10] == [0] * 10
    assert times[10] == 1000
    assert h.slept == [1.0]


async def test_sliding_second_window_frees_slots_as_old_sends_age() -> None:
    h = Harness(RateLimits(per_second=3, per_minute=400, per_day=5000))
    await h.send(2)
    h.clock.advance(0.6)
    await h.send(1)  # the window holds sends at 0, 0, 600 ms
    times = await h.send(3)
    # two slots free when both 0 ms sends leave the window, the third when the 600 ms one does
    assert times == [1000, 1000, 1600]


async def test_minute_window_holds_back_the_401st_order() -> None:
    h = Harness(RateLimits(per_second=400, per_minute=400, per_day=5000))
    times = await h.send(401)
    assert times[399] == 0 and times[400] == 60_000


async def test_daily_cap_refuses_with_a_reason_and_resets_next_day() -> None:
    h = Harness(RateLimits(per_second=10, per_minute=400, per_day=25))
    await h.send(25)
    assert h.limiter.remaining_today == 0
    with pytest.raises(OrderBudgetExhausted, match="daily order limit reached \\(25"):
        await h.limiter.acquire()
    h.clock.set_ns(datetime_to_ns(datetime(2026, 11, 26, 9, 15, tzinfo=IST)))
    await h.limiter.acquire()
    assert h.limiter.sent_today == 1


async def test_a_429_pauses_every_sender_and_backs_off_longer_each_time() -> None:
    h = Harness(RateLimits(backoff_initial_s=1.0, backoff_max_s=4.0))
    assert h.limiter.throttled() == 1.0
    await h.send(1)
    assert h.slept == [1.0]
    assert h.limiter.throttled() == 2.0
    assert h.limiter.throttled() == 4.0
    assert h.limiter.throttled() == 4.0  # capped
    h.limiter.accepted()
    assert h.limiter.throttled() == 1.0


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimits(per_second=0)
