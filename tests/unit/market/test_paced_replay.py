"""The paced replay of a recorded day: its clock is the replayed time, and the trader's
controls (pause, step, speed) decide which ticks are out.

Real time is a fake monotonic clock the test moves, so "how far has the replay got" is
decided by the test, never by how loaded the machine is.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal

import pytest

from engine.bus.memory import MemoryBus
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.payloads import Tick
from engine.market.feeds.paced_replay import (
    SPEEDS,
    PacedReplayFeed,
    ReplayClock,
    ReplayStatus,
    faster,
    parse_speed,
    slower,
)
from tests.helpers import eventually

DAY = date(2026, 12, 4)
OPEN = datetime_to_ns(datetime(2026, 12, 4, 9, 15, tzinfo=IST))


class RealTime:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += int(seconds * NS_PER_S)


def ticks_every(seconds: float, count: int) -> list[Tick]:
    return [
        Tick(
            instrument_token=408065,
            symbol="NSE:INFY",
            last_price=Decimal("1500.00") + i,
            exchange_ts=OPEN + int(i * seconds * NS_PER_S),
        )
        for i in range(count)
    ]


class Replay:
    """A feed over ``ticks`` on a bus, with a probe reading what it published."""

    def __init__(self, ticks: list[Tick], *, speed: float | None = 1.0) -> None:
        self.real = RealTime()
        self.clock = ReplayClock(ticks[0].exchange_ts, speed=speed, monotonic_ns=self.real)
        self.bus = MemoryBus(partitions=1)
        self.statuses: list[ReplayStatus] = []
        self.feed = PacedReplayFeed(
            self.bus, ticks, day=DAY, clock=self.clock, on_status=self.statuses.append
        )
        self.seen: list[Tick] = []

    async def __aenter__(self) -> Replay:
        self.sub = await self.bus.subscribe([topics.MARKET_TICKS], "probe")
        self.consumer = asyncio.create_task(self._consume())
        self.task = asyncio.create_task(self.feed.run())
        await eventually(lambda: self.feed.published > 0)  # running: stop() now ends it
        return self

    async def __aexit__(self, *_: object) -> None:
        self.feed.stop()
        await self.task
        self.consumer.cancel()

    async def _consume(self) -> None:
        """A consumer as the pipeline's are: what it fetched it commits."""
        while True:
            records = await self.sub.fetch(1000, 0.01)
            self.seen += [r.envelope.data for r in records]  # type: ignore[misc]
            await self.sub.commit(records)

    async def published(self) -> int:
        """Ticks consumed so far, once the feed has caught up with the clock."""
        await asyncio.sleep(0.05)
        return len(self.seen)


async def test_ticks_come_out_when_the_replayed_clock_reaches_them() -> None:
    async with Replay(ticks_every(1.0, 5), speed=1.0) as replay:
        assert await replay.published() == 1  # the first tick is at the start
        replay.real.advance(0.5)
        assert await replay.published() == 1
        assert replay.clock.now_ns() == OPEN + NS_PER_S // 2  # the clock runs between ticks
        replay.real.advance(0.5)
        await eventually(lambda: replay.feed.published == 2)
        assert replay.feed.last_event_ts == OPEN + NS_PER_S


async def test_speed_is_times_real_time() -> None:
    async with Replay(ticks_every(1.0, 30), speed=10.0) as replay:
        for _ in range(20):  # one real second, in steps the feed keeps up with
            replay.real.advance(0.05)
            await replay.published()
        await eventually(lambda: replay.feed.published == 11)
        assert replay.clock.now_ns() == OPEN + 10 * NS_PER_S


async def test_pause_stops_ticks_and_the_clock() -> None:
    async with Replay(ticks_every(1.0, 10)) as replay:
        await replay.published()
        replay.feed.toggle_pause()
        stopped_at = replay.clock.now_ns()
        replay.real.advance(60)
        assert await replay.published() == 1
        assert replay.clock.now_ns() == stopped_at
        replay.feed.toggle_pause()  # resumes from where it stood, not 60 s later
        assert replay.clock.now_ns() == stopped_at
        replay.real.advance(1.0)
        await eventually(lambda: replay.feed.published == 2)


async def test_step_publishes_exactly_one_tick_and_moves_the_clock_to_it() -> None:
    async with Replay(ticks_every(7.0, 10)) as replay:
        await replay.published()
        replay.feed.step_tick()
        assert await replay.published() == 2
        assert replay.clock.paused
        assert replay.clock.now_ns() == OPEN + 7 * NS_PER_S
        replay.feed.step_tick()
        replay.feed.step_tick()
        assert await replay.published() == 4
        replay.real.advance(100)  # paused: nothing more
        assert await replay.published() == 4


async def test_next_second_publishes_every_tick_up_to_it() -> None:
    async with Replay(ticks_every(0.25, 20)) as replay:
        await replay.published()
        replay.feed.step_second()  # 09:15:00 -> 09:15:01: ticks at .25 .5 .75 and 1.0
        assert await replay.published() == 5
        assert replay.clock.now_ns() == OPEN + NS_PER_S


def test_the_clock_waits_at_the_next_unpublished_tick_and_does_not_make_up_the_wait() -> None:
    real = RealTime()
    clock = ReplayClock(OPEN, speed=1.0, monotonic_ns=real)
    real.advance(30)  # the engine is still starting: nothing published yet
    assert clock.now_ns() == OPEN
    clock.hold_at(OPEN + 10 * NS_PER_S)  # the first tick is out; the next is 10 s later
    assert clock.now_ns() == OPEN  # not OPEN + 10 s: the 30 s of waiting are not made up
    real.advance(4)
    assert clock.now_ns() == OPEN + 4 * NS_PER_S
    real.advance(0.05)  # a feed a little late for a tick is caught up, not set back
    clock.hold_at(OPEN + 4 * NS_PER_S)
    assert clock.now_ns() == OPEN + 4 * NS_PER_S
    clock.hold_at(OPEN + 20 * NS_PER_S)
    assert clock.now_ns() == OPEN + 4 * NS_PER_S + NS_PER_S // 20


async def test_max_speed_publishes_everything_and_the_day_ends_paused_at_its_last_tick() -> None:
    ticks = ticks_every(60.0, 50)
    async with Replay(ticks, speed=None) as replay:
        await eventually(replay.feed.finished.is_set)
        assert replay.feed.published == 50
        assert replay.clock.now_ns() == ticks[-1].exchange_ts
        assert replay.statuses[-1] == ReplayStatus(DAY, None, paused=True, ended=True)
        replay.feed.toggle_pause()  # nothing left to play: it stays ended
        replay.real.advance(10)
        assert replay.clock.now_ns() == ticks[-1].exchange_ts


async def test_a_tick_goes_out_only_once_every_consumer_handled_the_one_before() -> None:
    replay = Replay(ticks_every(0.001, 50), speed=None)
    slow = await replay.bus.subscribe([topics.MARKET_TICKS], "slow")  # fetches nothing yet
    async with replay:
        await asyncio.sleep(0.05)
        assert replay.feed.published == 1  # the second waits for "slow" to handle the first
        assert replay.clock.now_ns() == OPEN  # and so does the replayed clock
        while not replay.feed.finished.is_set():
            await slow.commit(await slow.fetch(1000, 0.01))
        assert await replay.published() == 50


async def test_every_control_reports_its_status() -> None:
    async with Replay(ticks_every(1.0, 10), speed=2.0) as replay:
        replay.feed.set_speed(faster(2.0))
        replay.feed.toggle_pause()
        assert [(s.speed, s.paused) for s in replay.statuses] == [(5.0, False), (5.0, True)]
        assert replay.statuses[-1].state == "PAUSED"


def test_the_speed_ladder() -> None:
    assert SPEEDS == (1.0, 2.0, 5.0, 10.0, 60.0, None)
    assert [faster(s) for s in (1.0, 3.0, 60.0, None)] == [2.0, 5.0, None, None]
    assert [slower(s) for s in (None, 60.0, 3.0, 1.0, 0.5)] == [60.0, 10.0, 2.0, 1.0, 0.5]


@pytest.mark.parametrize(("text", "speed"), [("1", 1.0), ("60", 60.0), ("0.5", 0.5), ("MAX", None)])
def test_parse_speed(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["0", "-2", "fast", "nan", "inf", ""])
def test_parse_speed_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="positive number or 'max'"):
        parse_speed(text)
