"""Feed service base: turn a tick source into MARKET_TICK envelopes on the bus.

A feed is a supervised service (``name``, ``run``, ``stop``, ``health``). Subclasses supply
``items()``, a plain iterator of ticks and rejected rows; pacing, publishing, dead letters,
stopping and health live here once.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.events import topics
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import ComponentHealth, DeadLetter, Tick
from engine.events.types import ComponentStatus, EventType
from engine.ids import uuid7_str
from engine.memo import remember
from engine.waiting import set_within

log = logging.getLogger("alphapanda.feeds")
_MARKET_TICK = EventType.MARKET_TICK
_TICKS_TOPIC = topics.MARKET_TICKS
_KEY_CACHE = 65_536  # instrument tokens whose bus key is remembered


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """An input row that failed validation; ``error`` names the line."""

    line: int
    error: str
    raw: bytes


async def _let_others_run() -> None:
    await asyncio.sleep(0)


class FeedService(ABC):
    """Publishes every tick from ``items()`` to ``market.ticks`` keyed by instrument token."""

    def __init__(
        self,
        *,
        name: str,
        bus: EventBus,
        ticks_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        if ticks_per_second is not None and ticks_per_second <= 0:
            raise ValueError("ticks_per_second must be positive (None: as fast as possible)")
        self.name = name
        self.bus = bus
        self.ticks_per_second = ticks_per_second
        self.clock = clock
        self.published = 0
        self.dead_lettered = 0
        self.last_event_ts: int | None = None
        self.first_event_ts: int | None = None  # the source's first tick (a run's start)
        self.status = ComponentStatus.STOPPED
        self.finished = asyncio.Event()  # set when the source is exhausted
        self._stopping = asyncio.Event()
        self._stop_requested = False  # ``_stopping`` as a plain flag, read for every tick
        self._pause_every = 512
        self._pause: Callable[[], Awaitable[None]] = _let_others_run
        self._pause_now: Callable[[], bool] | None = None
        self._keys: dict[int, str] = {}  # bus key per instrument token

    def pause_every(
        self,
        ticks: int,
        pause: Callable[[], Awaitable[None]],
        pause_now: Callable[[], bool] | None = None,
    ) -> None:
        """Unpaced only: await ``pause()`` after every ``ticks`` published (default: yield
        to the consumers every 512). A backtest waits for the pipeline to drain here, so
        risk and execution never fall more than ``ticks`` behind the strategies.
        ``pause_now``, when given, is tried first: True when the pause is over without an
        await (a lockstep tick that needed none), so most ticks build no coroutine."""
        if ticks < 1:
            raise ValueError("ticks must be positive")
        self._pause_every = ticks
        self._pause = pause
        self._pause_now = pause_now

    @abstractmethod
    def items(self) -> Iterator[Tick | RejectedRow]:
        """The source, pure and synchronous, so backtests can use it without a bus."""

    def stop(self) -> None:
        self._stop_requested = True
        self._stopping.set()

    async def run(self) -> None:
        """Publish until the source ends or ``stop()``; a restart continues where it left off.

        A tick is appended synchronously (``_publish_now``); only back-pressure, pacing and
        the pause between bursts await, so an unpaced feed builds no coroutine per tick.
        """
        self._stopping.clear()
        self._stop_requested = False
        self.status = ComponentStatus.RUNNING
        log.info("producer started", extra={"feed": self.name, "topic": topics.MARKET_TICKS})
        source = self._source()
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent_since_start = 0
        publish_now = self._publish_now
        rate = self.ticks_per_second  # None: as fast as possible
        until_pause = self._pause_every
        pause_now = self._pause_now
        try:
            for item in source:
                if self._stop_requested:  # mirrors ``_stopping``: a plain read per tick
                    break
                if type(item) is not Tick:
                    if isinstance(item, RejectedRow):
                        await self._dead_letter(item)
                        continue
                waiting = publish_now(item)
                if waiting is not None:  # back-pressure: wait for the slowest group
                    await self.bus.publish(_TICKS_TOPIC, waiting, waiting.key)
                    self.published += 1
                    self.last_event_ts = item.exchange_ts
                sent_since_start += 1
                if rate is not None:
                    ahead = started + sent_since_start / rate - loop.time()
                    if ahead > 0 and not await self._sleep(ahead):
                        break
                else:
                    until_pause -= 1
                    if not until_pause:
                        until_pause = self._pause_every
                        if pause_now is None or not pause_now():
                            await self._pause()  # let consumers run between bursts
            else:
                self.finished.set()
        finally:
            self.status = ComponentStatus.STOPPED
            log.info("producer stopped", extra={"feed": self.name, "published": self.published})

    def _source(self) -> Iterator[Tick | RejectedRow]:
        """One iterator for the service's life, so a supervised restart resumes it.

        A generator that raised is exhausted for good: a restart must fail the same way
        again, never look like a source that ended, or the rest of a file would be
        dropped without a word.
        """
        failure = getattr(self, "_source_failure", None)
        if failure is not None:
            raise failure
        source = getattr(self, "_iterator", None)
        if source is None:
            source = self._iterator = self._guarded(self.items())
        return source

    def _guarded(self, items: Iterator[Tick | RejectedRow]) -> Iterator[Tick | RejectedRow]:
        try:
            for item in items:  # until the first tick, whose time is noted; then no cost
                if type(item) is Tick:
                    self.first_event_ts = item.exchange_ts
                    yield item
                    break
                yield item
            yield from items
        except Exception as exc:
            self._source_failure = exc
            raise

    def _publish_now(self, tick: Tick) -> EventEnvelope | None:
        """Append one tick at once: None when done (counted), else the envelope to await."""
        now = self.clock.now_ns() if self.clock is not None else tick.exchange_ts
        token = tick.instrument_token
        key = self._keys.get(token)
        if key is None:
            key = remember(self._keys, token, str(token), _KEY_CACHE)
        event_id = uuid7_str()
        envelope = EventEnvelope(  # new_event() inlined: one envelope per tick
            id=event_id,
            type=_MARKET_TICK,
            ts=now,
            source=self.name,
            data=tick,
            key=key,
            correlation_id=event_id,
            trace_id=event_id,
        )
        if not self.bus.publish_nowait(_TICKS_TOPIC, envelope, key):
            return envelope
        self.published += 1
        self.last_event_ts = tick.exchange_ts
        return None

    async def _dead_letter(self, row: RejectedRow) -> None:
        letter = DeadLetter(
            source_topic=topics.MARKET_TICKS,
            error=row.error[:2000],
            attempts=0,
            processor=self.name,
            original=row.raw,
        )
        now = self.clock.now_ns() if self.clock is not None else None
        envelope = new_event(EventType.DEAD_LETTER, letter, source=self.name, ts_ns=now)
        await self.bus.publish(topics.dlq(topics.MARKET_TICKS), envelope, "")
        self.dead_lettered += 1
        log.error("dead-lettered", extra={"feed": self.name, "error": row.error[:500]})

    async def _sleep(self, seconds: float) -> bool:
        """Wait, waking at once on stop. True when the full wait elapsed."""
        return not await set_within(self._stopping, seconds)

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name,
            status=self.status,
            detail="finished" if self.finished.is_set() else "",
            dlq_count=self.dead_lettered,
            processed=self.published,
            last_event_ts=self.last_event_ts,
        )
