"""``StreamProcessor``: the one base for every service that consumes the bus.

Contract: a record is committed only after its handler and its outputs succeeded; a
failure is retried with backoff and jitter, then dead-lettered to ``{topic}.dlq``
with the error, the attempt count and the original envelope; a handler that keeps
failing opens a circuit breaker that pauses the processor; a redelivered event id is
skipped; ``stop()`` finishes the batch in hand and leaves the rest uncommitted.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from engine.bus.base import EventBus, Record, Subscription
from engine.clock import Clock, SystemClock
from engine.events import topics
from engine.events.codec import DecodeError, EventCodec
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth, DeadLetter
from engine.events.types import ComponentStatus, EventType
from engine.processing.circuit import BreakerConfig, BreakerState, CircuitBreaker
from engine.processing.dedup import DedupStore, MemoryDedupWindow
from engine.processing.emitter import Emitter
from engine.processing.retry import PermanentError, RetryPolicy

log = logging.getLogger("alphapanda.processing")
_PERMANENT = (PermanentError, DecodeError, msgspec.ValidationError)


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    """Knobs of the processing contract; built from settings at the edge."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    batch_size: int = 256
    poll_timeout: float = 0.25
    timer_interval: float | None = None  # seconds between ``on_timer`` calls


@dataclass(slots=True)
class ProcessorStats:
    processed: int = 0
    failures: int = 0
    retries: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    last_event_ts: int | None = None


class StreamProcessor(ABC):
    """Consumes ``input_topics`` as consumer group ``group`` and calls ``handle`` per event."""

    def __init__(
        self,
        *,
        name: str,
        bus: EventBus,
        input_topics: Sequence[str],
        group: str | None = None,
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.bus = bus
        self.input_topics = tuple(input_topics)
        self.group = group or name
        self.config = config or ProcessorConfig()
        self.dedup: DedupStore = dedup if dedup is not None else MemoryDedupWindow()
        self.clock: Clock = clock or SystemClock()
        self.breaker = CircuitBreaker(self.config.breaker)
        self.stats = ProcessorStats()
        self.status = ComponentStatus.STOPPED
        self._codec = EventCodec("msgpack")
        self._stopping = asyncio.Event()
        self._subscription: Subscription | None = None

    # -- to implement -------------------------------------------------------------
    @abstractmethod
    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        """Apply one event; emit outputs through ``out``. Must be idempotent."""

    async def on_start(self) -> None:
        """Load state before the first event (e.g. rebuild from storage)."""

    async def on_stop(self) -> None:
        """Flush state after the last event (e.g. a final snapshot)."""

    async def on_timer(self, out: Emitter) -> None:
        """Periodic work when ``config.timer_interval`` is set."""

    # -- lifecycle ----------------------------------------------------------------
    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        """Consume until ``stop()``; re-entrant, so a supervisor can restart it after a crash."""
        self._stopping.clear()
        self._subscription = sub = await self.bus.subscribe(self.input_topics, self.group)
        await self.on_start()
        self.status = ComponentStatus.RUNNING
        log.info(
            "consumer started",
            extra={"processor": self.name, "group": self.group, "topics": list(self.input_topics)},
        )
        loop = asyncio.get_running_loop()
        interval = self.config.timer_interval
        next_timer = loop.time() + interval if interval else None
        try:
            while not self._stopping.is_set():
                timeout = self.config.poll_timeout
                if next_timer is not None:
                    timeout = max(0.0, min(timeout, next_timer - loop.time()))
                records = await sub.fetch(self.config.batch_size, timeout)
                if records:
                    await self._handle_batch(sub, records)
                if next_timer is not None and loop.time() >= next_timer:
                    await self._run_timer()
                    next_timer = loop.time() + (interval or 0)
        finally:
            try:
                await self.on_stop()
            finally:
                await sub.aclose()
                self._subscription = None
                self.status = ComponentStatus.STOPPED
                log.info("consumer stopped", extra={"processor": self.name, "group": self.group})

    async def _handle_batch(self, sub: Subscription, records: list[Record]) -> None:
        done: list[Record] = []
        for record in records:
            if not await self._process(record):
                break
            done.append(record)
        if done:
            await sub.commit(done)
            if log.isEnabledFor(logging.DEBUG):
                last = done[-1]
                log.debug(
                    "commit",
                    extra={
                        "processor": self.name,
                        "topic": last.topic,
                        "partition": last.partition,
                        "offset": last.offset,
                        "count": len(done),
                    },
                )
        if len(done) < len(records):
            await sub.rewind()

    async def _run_timer(self) -> None:
        out = Emitter(self.name, None, self.clock.now_ns())
        try:
            await self.on_timer(out)
            await self._publish(out)
        except Exception:
            log.exception("timer failed", extra={"processor": self.name})

    # -- one record ---------------------------------------------------------------
    async def _process(self, record: Record) -> bool:
        """Handle, retry or dead-letter one record. False: stop was requested mid-retry."""
        envelope = record.envelope
        if envelope is None:
            await self._dead_letter(record, record.error or "undecodable message", 0)
            return True
        if await self.dedup.seen(self.group, envelope.id):
            self.stats.duplicates += 1
            return True
        if log.isEnabledFor(logging.DEBUG):
            log.debug("consume", extra=self._extra(record, envelope))
        attempt = 0
        while True:
            pause = self.breaker.remaining()
            if pause > 0:
                self.status = ComponentStatus.PAUSED
                log.warning(
                    "circuit open: processor paused",
                    extra={"processor": self.name, "pause_s": round(pause, 3)},
                )
                if not await self._sleep(pause):
                    return False
                continue
            self.status = ComponentStatus.RUNNING
            attempt += 1
            out = Emitter(self.name, envelope, self.clock.now_ns())
            try:
                await self.handle(envelope, out)
                await self._publish(out)
                await self.dedup.mark(self.group, envelope.id)
            except _PERMANENT as exc:
                await self._dead_letter(record, f"{type(exc).__name__}: {exc}", attempt)
                await self.dedup.mark(self.group, envelope.id)
                return True
            except Exception as exc:
                self.stats.failures += 1
                self.breaker.record_failure()
                log.warning(
                    "handler failed",
                    extra={**self._extra(record, envelope), "attempt": attempt, "error": repr(exc)},
                )
                if attempt >= self.config.retry.max_attempts:
                    await self._dead_letter(record, f"{type(exc).__name__}: {exc}", attempt)
                    await self.dedup.mark(self.group, envelope.id)
                    return True
                self.stats.retries += 1
                if not await self._sleep(self.config.retry.delay(attempt)):
                    return False
                continue
            self.breaker.record_success()
            self.stats.processed += 1
            self.stats.last_event_ts = envelope.ts
            return True

    async def _publish(self, out: Emitter) -> None:
        for item in out.outbox:
            await self.bus.publish(item.topic, item.envelope, item.envelope.key)
            if log.isEnabledFor(logging.DEBUG):
                env = item.envelope
                log.debug(
                    "produce",
                    extra={
                        "processor": self.name,
                        "topic": item.topic,
                        "key": env.key,
                        "event_id": env.id,
                        "correlation_id": env.correlation_id,
                    },
                )

    async def _dead_letter(self, record: Record, error: str, attempts: int) -> None:
        envelope = record.envelope
        original = record.raw if record.raw is not None else self._codec.encode(envelope)  # type: ignore[arg-type]
        letter = DeadLetter(
            source_topic=record.topic,
            error=error[:2000],
            attempts=attempts,
            processor=self.name,
            original=original,
            original_key=record.key,
        )
        out = Emitter(self.name, envelope, self.clock.now_ns())
        out.emit(topics.dlq(record.topic), EventType.DEAD_LETTER, letter, key=record.key or "")
        await self._publish(out)
        self.stats.dead_lettered += 1
        extra = self._extra(record, envelope)
        log.error("dead-lettered", extra={**extra, "error": error[:500], "attempts": attempts})

    async def _sleep(self, seconds: float) -> bool:
        """Wait, but wake at once on stop. True when the full wait elapsed."""
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            return True
        return False

    def _extra(self, record: Record, envelope: EventEnvelope | None) -> dict[str, object]:
        return {
            "processor": self.name,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key,
            "event_id": envelope.id if envelope else None,
            "correlation_id": envelope.correlation_id if envelope else None,
        }

    # -- observability ------------------------------------------------------------
    def health(self) -> ComponentHealth:
        sub = self._subscription
        status = self.status
        if self.breaker.state is BreakerState.OPEN:
            status = ComponentStatus.PAUSED
        return ComponentHealth(
            name=self.name,
            status=status,
            detail=f"breaker {self.breaker.state.value}",
            lag=sub.lag() if sub else 0,
            dlq_count=self.stats.dead_lettered,
            processed=self.stats.processed,
            last_event_ts=self.stats.last_event_ts,
        )
