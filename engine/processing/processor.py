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

import msgspec

from engine.bus.base import EventBus, Record, Subscription
from engine.clock import Clock, SystemClock
from engine.events import topics
from engine.events.codec import DecodeError
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus, EventType
from engine.logs.context import correlation_id as _correlation_var
from engine.processing.circuit import BreakerState, CircuitBreaker
from engine.processing.config import ProcessorConfig, ProcessorStats
from engine.processing.dead_letters import dead_letter, record_fields
from engine.processing.dedup import DedupStore, GroupWindow, MemoryDedupWindow
from engine.processing.emitter import Emitter
from engine.processing.handover import DriverHandover
from engine.processing.retry import PermanentError
from engine.waiting import set_within

__all__ = ["ProcessorConfig", "ProcessorStats", "StreamProcessor"]

log = logging.getLogger("alphapanda.processing")
_PERMANENT = (PermanentError, DecodeError, msgspec.ValidationError)
_DEBUG = logging.DEBUG
_CLOSED = BreakerState.CLOSED


class StreamProcessor(DriverHandover, ABC):
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
        self.dedup: DedupStore = (
            dedup if dedup is not None else MemoryDedupWindow(self.config.dedup_window)
        )
        self._crashed = False  # the last run() raised: see run()
        self.clock: Clock = clock or SystemClock()
        self.breaker = CircuitBreaker(self.config.breaker)
        self.stats = ProcessorStats()
        self.status = ComponentStatus.STOPPED
        self._stopping = asyncio.Event()
        self._abandoned = False  # stopping without a drain (see ``abandon``)
        self._subscription: Subscription | None = None
        self._dlq_salt = f"{name}#dlq"
        self._has_fast_path = type(self).handle_now is not StreamProcessor.handle_now
        self._init_handover(self._has_fast_path)

    # -- to implement -------------------------------------------------------------
    @abstractmethod
    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        """Apply one event; emit outputs through ``out``. Must be idempotent."""

    def handle_now(self, envelope: EventEnvelope) -> bool:
        """Optional synchronous fast path for frequent events (ticks), tried before ``handle``.

        True: the event is fully handled, with no outputs, and is marked done without an
        ``Emitter``, a coroutine or a context switch. False: ``handle`` runs as usual; work
        begun here must be picked up there, not repeated. Used only on the in-memory dedup
        hot path; ``handle`` alone must stay a complete handler.
        """
        return False

    async def subscribe(self) -> Subscription:
        """Join the group on the input topics (a reader that starts some topics
        elsewhere than earliest overrides this)."""
        return await self.bus.subscribe(self.input_topics, self.group)

    async def on_start(self) -> None:
        """Load state before the first event (e.g. rebuild from storage)."""

    async def on_stop(self) -> None:
        """Flush state after the last event (e.g. a final snapshot)."""

    async def on_timer(self, out: Emitter) -> None:
        """Periodic work when ``config.timer_interval`` is set."""

    # -- lifecycle ----------------------------------------------------------------
    def stop(self) -> None:
        """Ask ``run()`` to finish the batch in hand, drain what is already in the input
        (``drain_timeout``) and return; also before it started."""
        self._stopping.set()
        if self._subscription is not None:
            self._subscription.interrupt()

    def abandon(self) -> None:
        """Stop after the batch in hand, without draining: the work belongs to another
        process now (a lost lease); what is left is redelivered there."""
        self._abandoned = True
        self._stopping.set()

    @property
    def subscription(self) -> Subscription | None:
        """The input while running (benchmarks and tests ask it whether they are drained)."""
        return self._subscription

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        """Consume until ``stop()``; re-entrant, so a supervisor can restart it after a crash.

        A ``stop()`` that arrives before ``run()`` (or between a crash and the restart) is
        honoured: ``run()`` then returns at once. The stop request is cleared on the way
        out, so a later ``run()`` consumes again.
        """
        try:
            if self._stopping.is_set():
                return
            if (
                self._crashed
                and type(self.dedup) is MemoryDedupWindow
                and not self.bus.durable_on_publish
            ):
                # On a bus that acknowledges outputs later (Kafka), a record whose outputs
                # were lost (a failed flush) comes back uncommitted: handle it again.
                self.dedup.forget(self.group)
                self._fast_window = None
            self._crashed = False
            await self._consume()
        except BaseException:
            self._crashed = True
            raise
        finally:
            self._stopping.clear()
            self._abandoned = False

    async def _consume(self) -> None:
        self._subscription = sub = await self.subscribe()
        started = False
        try:
            await self.on_start()
            started = True
            self.status = ComponentStatus.RUNNING
            log.info(
                "consumer started: %s (group %s) on %s",
                self.name,
                self.group,
                ", ".join(self.input_topics),
                extra={
                    "processor": self.name,
                    "group": self.group,
                    "topics": list(self.input_topics),
                },
            )
            await self._loop(sub)
        finally:
            try:
                if started:
                    await self.on_stop()
            finally:
                await sub.aclose()
                self._subscription = None
                self.status = ComponentStatus.STOPPED
                log.info(
                    "consumer stopped: %s (group %s)",
                    self.name,
                    self.group,
                    extra={"processor": self.name, "group": self.group},
                )

    async def _loop(self, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        interval = self.config.timer_interval
        next_timer = loop.time() + interval if interval else None
        batch_size = self.config.batch_size
        stopping = self._stopping
        while not stopping.is_set():
            timeout = self.config.poll_timeout
            if next_timer is not None:
                timeout = max(0.0, min(timeout, next_timer - loop.time()))
            records = await sub.fetch(batch_size, timeout)
            if records:
                await self._handle_batch(sub, records)
                # A fetch with records waiting never suspends: yield once per batch so a
                # busy stage cannot starve the others, the console or the kill switch.
                await asyncio.sleep(0)
            if next_timer is not None and loop.time() >= next_timer:
                await self._run_timer()
                next_timer = loop.time() + (interval or 0)
        await self._drain(sub)

    async def _drain(self, sub: Subscription) -> None:
        """Stopping: handle what is already in the input before returning, so a graceful
        stop leaves no fill unapplied (the supervisor stops upstream stages first).
        Bounded by ``drain_timeout``; a record that fails ends it (redelivered later)."""
        budget = self.config.drain_timeout
        if budget <= 0 or self._abandoned:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while loop.time() < deadline:
            try:
                if await sub.caught_up():
                    return
            except Exception as exc:  # the cluster is unwell: what is left is redelivered
                log.warning(
                    "drain on stop skipped", extra={"processor": self.name, "error": repr(exc)}
                )
                return
            records = await sub.fetch(self.config.batch_size, min(0.1, self.config.poll_timeout))
            if records and await self._handle_batch(sub, records) < len(records):
                return
        log.warning("stopped before the input was drained", extra={"processor": self.name})

    async def _handle_batch(self, sub: Subscription, records: list[Record]) -> int:
        """Handle records in order; commit the handled prefix; redeliver the rest later.
        Returns how many were handled."""
        debug = log.isEnabledFor(_DEBUG)
        dedup = self.dedup
        window = dedup.group_window(self.group) if type(dedup) is MemoryDedupWindow else None
        done = await self._handle_records(records, window, debug)
        if done:
            handled = records if done == len(records) else records[:done]
            await sub.commit(handled)
            self.stats.commits += 1
            if debug:
                log.debug("commit", extra={**self._extra(handled[-1]), "count": done})
        if done < len(records):
            await sub.rewind()
        return done

    async def _run_timer(self) -> None:
        out = Emitter(self.name, None, self.clock.now_ns())
        try:
            await self.on_timer(out)
            await self._publish(out)
        except Exception:
            log.exception("timer failed", extra={"processor": self.name})

    # -- the one record path: ``_handle_records``, then ``_attempts`` for retries ----
    async def _handle_records(
        self, records: list[Record], window: GroupWindow | None, debug: bool
    ) -> int:
        """Check, then handle each record in order; returns how many are done (the rest
        waits for redelivery: stop was requested mid-retry).

        Every record takes this path. The first attempt runs inline (``handle_now``
        first, when the processor has one): it is the only step most records take.
        A failure, an open breaker, a bad record or a durable dedup store (``window``
        None: its checks await) continue in ``_attempts``.
        """
        stats = self.stats
        breaker = self.breaker
        handle_now = self.handle_now if self._has_fast_path else None
        handle_fully = self._handle_fully
        # Read once and again after each record handed to ``_attempts`` (only a failure,
        # always handed over, moves the breaker; retries may rotate the window).
        closed = breaker.state is _CLOSED
        recovering = breaker.failures > 0
        current = previous = set[str]()  # no window: never read
        if window is not None:  # not ``if window``: an empty window is falsy
            current, previous = window.current, window.previous
        done = 0
        for record in records:
            envelope = record.envelope
            if envelope is not None and window is not None:
                event_id = envelope.id
                if event_id in current or event_id in previous:
                    self._skip_duplicate(record, debug)
                    done += 1
                    continue
                if debug:
                    log.debug("consume", extra=self._extra(record))
                attempt, failure = 0, None
                if closed:
                    attempt = 1
                    stats.handler_calls += 1
                    try:
                        if handle_now is None or not handle_now(envelope):
                            await handle_fully(envelope, debug)
                    except Exception as exc:
                        failure = exc
                    else:  # as in ``_attempts``, inlined: most records end here
                        current.add(event_id)
                        if len(current) >= window.size:
                            window.rotate()
                            current, previous = window.current, window.previous
                        if recovering:
                            breaker.record_success()
                            recovering = False
                        stats.processed += 1
                        stats.last_event_ts = envelope.ts
                        done += 1
                        continue
                handled = await self._attempts(record, window, debug, attempt, failure)
            else:
                handled = await self._check_then_attempt(record, debug)
            if not handled:
                return done
            done += 1
            closed = breaker.state is _CLOSED
            recovering = breaker.failures > 0
            if window is not None:
                current, previous = window.current, window.previous
        return done

    async def _check_then_attempt(self, record: Record, debug: bool) -> bool:
        """``_begin`` for a bad record or a durable dedup store: these checks await."""
        envelope = record.envelope
        if envelope is None:
            await self._dead_letter(record, record.error or "undecodable message", 1)
            return True
        if await self.dedup.seen(self.group, envelope.id):
            self._skip_duplicate(record, debug)
            return True
        if debug:
            log.debug("consume", extra=self._extra(record))
        return await self._attempts(record, None, debug, 0, None)

    async def _attempts(
        self,
        record: Record,
        window: GroupWindow | None,
        debug: bool,
        attempt: int,
        failure: Exception | None,
    ) -> bool:
        """Handle, retry (waiting out an open breaker) or dead-letter one checked record.

        ``attempt`` attempts were made already, the last one failing with ``failure``
        (when given). False: stop was requested mid-retry.
        """
        envelope: EventEnvelope = record.envelope  # type: ignore[assignment]  # checked
        breaker = self.breaker
        while True:
            if failure is None:
                if breaker.state is not _CLOSED and (pause := breaker.remaining()) > 0:
                    if not await self._pause(pause):
                        return False
                    self.status = ComponentStatus.RUNNING
                    continue
                attempt += 1
                self.stats.handler_calls += 1
                try:
                    await self._handle_fully(envelope, debug)
                    if window is None:
                        await self.dedup.mark(self.group, envelope.id)
                except Exception as exc:
                    failure = exc
                else:
                    if window is not None:
                        window.add(envelope.id)
                    if breaker.failures:
                        breaker.record_success()
                    self.stats.processed += 1
                    self.stats.last_event_ts = envelope.ts
                    return True
            token = _correlation_var.set(envelope.correlation_id or envelope.id)
            try:
                if not await self._after_failure(record, failure, attempt):
                    return False
            finally:
                _correlation_var.reset(token)
            if isinstance(failure, _PERMANENT) or attempt >= self.config.retry.max_attempts:
                return True
            failure = None

    def _skip_duplicate(self, record: Record, debug: bool) -> None:
        self.stats.duplicates += 1
        if debug:
            log.debug("duplicate skipped", extra=self._extra(record))

    async def _handle_fully(self, envelope: EventEnvelope, debug: bool) -> None:
        """``handle`` with an ``Emitter`` and the correlation id, then publish its outputs."""
        out = Emitter(self.name, envelope, self.clock.now_ns())
        token = _correlation_var.set(envelope.correlation_id or envelope.id)
        try:
            await self.handle(envelope, out)
            if out.outbox:
                await self._publish(out, debug)
        finally:
            _correlation_var.reset(token)

    async def _after_failure(self, record: Record, exc: Exception, attempt: int) -> bool:
        """A permanent error or the last attempt dead-letters the record; any other failure
        is counted, logged and backed off. False: stopped during the back-off."""
        if not isinstance(exc, _PERMANENT):
            self.stats.failures += 1
            self.breaker.record_failure()
            log.warning(
                "handler failed",
                extra={**self._extra(record), "attempt": attempt, "error": repr(exc)},
            )
            if attempt < self.config.retry.max_attempts:
                self.stats.retries += 1
                return await self._sleep(self.config.retry.delay(attempt))
        await self._dead_letter(record, f"{type(exc).__name__}: {exc}", attempt)
        # Only a decoded record reaches a handler, so its envelope is there.
        await self.dedup.mark(self.group, record.envelope.id)  # type: ignore[union-attr]
        return True

    async def _pause(self, seconds: float) -> bool:
        """Circuit open: report PAUSED and wait (waking on stop). False when stopped."""
        self.status = ComponentStatus.PAUSED
        log.warning(
            "circuit open: processor paused",
            extra={"processor": self.name, "pause_s": round(seconds, 3)},
        )
        return await self._sleep(seconds)

    async def _publish(self, out: Emitter, debug: bool | None = None) -> None:
        """Publish a handler's outputs in order (fast path when the bus can append at once)."""
        bus = self.bus
        if debug is None:
            debug = log.isEnabledFor(_DEBUG)
        for item in out.outbox:
            env = item.envelope
            if not bus.publish_nowait(item.topic, env, env.key):
                await bus.publish(item.topic, env, env.key)
            if debug:
                log.debug(
                    "produce",
                    extra={
                        "processor": self.name,
                        "topic": item.topic,
                        "key": env.key,
                        "event_id": env.id,
                        "correlation_id": env.correlation_id,
                        "type": env.type.value,
                    },
                )

    async def _dead_letter(self, record: Record, error: str, attempts: int) -> None:
        """Publish the record to ``{topic}.dlq``; a record from a DLQ is logged, never re-queued.

        Re-publishing a failed dead letter to a dead-letter topic could feed it back to the
        processor that just failed on it: a loop. It is logged in full instead.
        """
        extra = {**self._extra(record), "error": error[:500], "attempts": attempts}
        self.stats.dead_lettered += 1
        if record.topic.endswith(topics.DLQ_SUFFIX):
            log.error("dead letter failed again; not re-queued", extra=extra)
            return
        letter = dead_letter(record, error, attempts, self.name)
        out = Emitter(self.name, record.envelope, self.clock.now_ns(), salt=self._dlq_salt)
        out.emit(topics.dlq(record.topic), EventType.DEAD_LETTER, letter, key=record.key or "")
        await self._publish(out)
        log.error("dead-lettered", extra=extra)

    async def _sleep(self, seconds: float) -> bool:
        """Wait, but wake at once on stop. True when the full wait elapsed."""
        if self._stopping.is_set():
            return False
        return not await set_within(self._stopping, seconds)

    def _extra(self, record: Record) -> dict[str, object]:
        return record_fields(self.name, self.group, record)

    # -- observability ------------------------------------------------------------
    def health(self) -> ComponentHealth:
        sub = self._subscription
        status = self.status
        if self.breaker.state is BreakerState.OPEN and status is not ComponentStatus.STOPPED:
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
