"""Replay a recorded day at a chosen speed, with pause and step, on the day's own clock.

``ReplayClock`` is the run's clock during a replay: it reads the replayed exchange time,
not the wall clock, so market status, MIS cut-offs, the header and the feed's age tell
the recorded day's truth. While playing it runs at ``speed`` times real time but never
past the next tick not yet published (a slow pipeline holds the clock back instead of
letting it run ahead of the ticks); paused it stands still. ``PacedReplayFeed`` releases
each tick when the clock reaches its time, and the trader's controls (pause, resume,
step one tick, step to the next second, faster, slower) act on both.

The engine never imports the tick store: the feed takes any ``Iterable[Tick]`` in time
order, and the composition root hands it the recorded day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from engine.bus.base import EventBus
from engine.clock import NS_PER_S
from engine.events import topics
from engine.events.payloads import Tick
from engine.events.types import ComponentStatus
from engine.market.feeds.base import FeedService, RejectedRow, log
from engine.waiting import set_within

CATCH_UP_S = 0.1  # a late tick is caught up; a clock held back longer goes on from there
_SPIN_POLLS = 64  # yields before the drain wait turns to sleeping (a database write)
_DRAIN_POLL_S = 0.001
# The speed ladder the + and - keys climb; None is "max": as fast as the pipeline takes.
SPEEDS: tuple[float | None, ...] = (1.0, 2.0, 5.0, 10.0, 60.0, None)


def speed_text(speed: float | None) -> str:
    """``10x``, ``2.5x`` or ``max``, as the header shows it."""
    return "max" if speed is None else f"{speed:g}x"


def parse_speed(text: str) -> float | None:
    """A speed as typed after ``--speed``: a positive number (``10``, ``0.5``) or ``max``."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"speed must be a positive number or 'max', got {text!r}") from None
    if not speed > 0 or speed == float("inf"):
        raise ValueError(f"speed must be a positive number or 'max', got {text!r}")
    return speed


def faster(speed: float | None) -> float | None:
    """The next speed up the ladder (max stays max)."""
    if speed is None:
        return None
    return next((s for s in SPEEDS if s is None or s > speed), None)


def slower(speed: float | None) -> float | None:
    """The next speed down the ladder (1x stays 1x; a slower typed speed stays itself)."""
    below = [s for s in SPEEDS if s is not None and (speed is None or s < speed)]
    return below[-1] if below else speed


@dataclass(frozen=True, slots=True)
class ReplayStatus:
    """What the console shows of a replay: which day, how fast, paused, or over."""

    day: date
    speed: float | None
    paused: bool
    ended: bool

    @property
    def state(self) -> str:
        return "ENDED" if self.ended else "PAUSED" if self.paused else "PLAYING"


class ReplayClock:
    """The replayed exchange time in UTC ns (implements ``engine.clock.Clock``).

    ``monotonic_ns`` is injectable so tests decide how much real time has passed.
    """

    def __init__(
        self,
        start_ns: int,
        *,
        speed: float | None = 1.0,
        paused: bool = False,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (None: max)")
        self._monotonic_ns = monotonic_ns
        self._base_ns = start_ns  # replayed time at ``_anchor``
        self._anchor = monotonic_ns()
        self._limit_ns: int | None = start_ns  # the next tick not yet published
        self.speed = speed
        self.paused = paused

    def now_ns(self) -> int:
        base = self._base_ns
        if self.paused or self.speed is None:
            return base
        moved = base + int((self._monotonic_ns() - self._anchor) * self.speed)
        if self._limit_ns is not None:
            moved = min(moved, self._limit_ns)
        return max(base, moved)

    def _rebase(self, base_ns: int | None = None) -> None:
        self._base_ns = self.now_ns() if base_ns is None else base_ns
        self._anchor = self._monotonic_ns()

    def set_speed(self, speed: float | None) -> None:
        self._rebase()
        self.speed = speed

    def set_paused(self, paused: bool) -> None:
        self._rebase()
        self.paused = paused

    def hold_at(self, ts_ns: int | None) -> None:
        """Never run past ``ts_ns`` (the next tick) until it is published; None: no limit.

        A clock held at the previous limit for longer than ``CATCH_UP_S`` of real time (a
        pipeline slower than the speed, the engine starting) goes on from that limit: the
        time lost waiting is not made up in a burst of ticks.
        """
        limit, speed = self._limit_ns, self.speed
        if limit is not None and speed is not None and not self.paused:
            moved = self._base_ns + int((self._monotonic_ns() - self._anchor) * speed)
            if moved - limit > CATCH_UP_S * NS_PER_S * speed:
                self._rebase(limit)
        self._limit_ns = ts_ns

    def reach(self, ts_ns: int) -> None:
        """The clock is at least ``ts_ns`` (a tick published by a step or at max speed)."""
        if ts_ns > self.now_ns():
            self._rebase(ts_ns)

    def next_second(self) -> int:
        """Move to the next whole second of replayed time; returns it."""
        target = (self.now_ns() // NS_PER_S + 1) * NS_PER_S
        self._rebase(target)
        return target


class PacedReplayFeed(FeedService):
    """A recorded day's ticks, published as the ``ReplayClock`` reaches each one.

    ``on_status`` is told every change a trader should see (pause, speed, the end).
    """

    def __init__(
        self,
        bus: EventBus,
        ticks: Iterable[Tick],
        *,
        day: date,
        clock: ReplayClock,
        on_status: Callable[[ReplayStatus], None] | None = None,
        ready: Callable[[], Awaitable[None]] | None = None,
        name: str = "replay-feed",
    ) -> None:
        """``ready``: awaited before the first tick (the pipeline's consumers have joined,
        so no strategy misses the day's opening ticks)."""
        super().__init__(name=name, bus=bus, clock=clock)
        self.replay_clock = clock
        self.day = day
        self.ticks = ticks
        self.on_status = on_status
        self._ready = ready
        self.ended = False
        self._steps = 0  # ticks granted by "step" while paused
        self._changed = asyncio.Event()  # a control changed: the waiting tick re-checks

    def items(self) -> Iterator[Tick | RejectedRow]:
        return iter(self.ticks)

    # -- the trader's controls ---------------------------------------------------------
    def replay_status(self) -> ReplayStatus:
        clock = self.replay_clock
        return ReplayStatus(self.day, clock.speed, clock.paused, self.ended)

    def toggle_pause(self) -> ReplayStatus:
        """Pause or resume; an ended day stays where it ended."""
        if not self.ended:
            self.replay_clock.set_paused(not self.replay_clock.paused)
        return self._changed_status()

    def step_tick(self) -> ReplayStatus:
        """Pause, then publish exactly one more tick (the clock moves to its time)."""
        if not self.ended:
            self.replay_clock.set_paused(True)
            self._steps += 1
        return self._changed_status()

    def step_second(self) -> ReplayStatus:
        """Pause, then move to the next whole second: every tick up to it is published."""
        if not self.ended:
            self.replay_clock.set_paused(True)
            self.replay_clock.next_second()
        return self._changed_status()

    def set_speed(self, speed: float | None) -> ReplayStatus:
        self.replay_clock.set_speed(speed)
        return self._changed_status()

    def _changed_status(self) -> ReplayStatus:
        self._changed.set()
        status = self.replay_status()
        if self.on_status is not None:
            self.on_status(status)
        return status

    def stop(self) -> None:
        super().stop()
        self._changed.set()

    # -- publishing --------------------------------------------------------------------
    async def run(self) -> None:
        """Publish each tick when the replayed clock reaches it; a restart continues."""
        self._stopping.clear()
        self._stop_requested = False
        self.status = ComponentStatus.RUNNING
        log.info("producer started", extra={"feed": self.name, "day": self.day.isoformat()})
        until_pause = self._pause_every  # at max speed: let the consumers and console run
        if self._ready is not None:
            await self._ready()
            self._ready = None
        try:
            for item in self._source():
                if not isinstance(item, Tick):
                    continue  # the store holds validated ticks only
                if not await self._wait_for(item.exchange_ts):
                    break
                await self._publish(item)
                await self._handled()
                until_pause -= 1
                if not until_pause:
                    until_pause = self._pause_every
                    await self._pause()
            else:
                self._end()
        finally:
            self.status = ComponentStatus.STOPPED
            log.info("producer stopped", extra={"feed": self.name, "published": self.published})

    async def _publish(self, tick: Tick) -> None:
        waiting = self._publish_now(tick)
        if waiting is not None:  # back-pressure: wait for the slowest consumer group
            await self.bus.publish(topics.MARKET_TICKS, waiting, waiting.key)
            self.published += 1
            self.last_event_ts = tick.exchange_ts

    async def _handled(self) -> None:
        """Wait until every consumer has handled the tick just published.

        A replay never runs ahead of its own pipeline: at any speed each tick meets the
        strategies, risk and the paper venue exactly as in the recorded session, so the
        replay trades as the session did (a pipeline slower than the speed asked for holds
        the clock back instead; "max" is as fast as that allows). Ahead, risk would count
        orders still in flight as open and refuse signals the session had sent.
        """
        has_lag, polls = self.bus.has_lag, 0
        while has_lag() and not self._stop_requested:
            await asyncio.sleep(0 if polls < _SPIN_POLLS else _DRAIN_POLL_S)
            polls += 1

    async def _wait_for(self, ts_ns: int) -> bool:
        """Wait until the tick at ``ts_ns`` is due; False when stopped first."""
        clock = self.replay_clock
        clock.hold_at(ts_ns)
        while not self._stop_requested:
            self._changed.clear()
            if self._steps and clock.paused:
                self._steps -= 1
                clock.reach(ts_ns)
                return True
            if clock.speed is None and not clock.paused:
                clock.reach(ts_ns)
                return True
            now = clock.now_ns()
            if now >= ts_ns:
                return True
            if clock.paused:
                await self._changed.wait()
            else:
                wait_s = (ts_ns - now) / NS_PER_S / clock.speed  # type: ignore[operator]
                await set_within(self._changed, wait_s)
        return False

    def _end(self) -> None:
        """The day is over: the clock stops at its last tick and the console says ENDED."""
        self.replay_clock.set_paused(True)
        self.ended = True
        self.finished.set()
        self._changed_status()
