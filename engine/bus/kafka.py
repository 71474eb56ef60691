"""Kafka (Redpanda or any Kafka-protocol broker) backend of the event bus, over aiokafka.

Producer: ``acks=all``, idempotence switchable (some brokers lack it; consumer-side
dedup keeps effects exactly-once without it). The bus builds the batches itself, one per
partition, and hands them to aiokafka in order (``send_batch``): a publish is one C-level
append, without aiokafka's per-message coroutine and future, and ``publish_nowait``
works. Messages are numbered as they are appended, so a flush waits for (and checks)
exactly the messages appended before it, whoever else is flushing.

Consumers: one group per service, manual commits, earliest reset. Commits are batched
in time, not per fetched batch: ``commit()`` records what the processor has finished; a
committer task per subscription, every ``commit_interval_ms``, waits until every message
sent so far is acknowledged and then commits those offsets in one request. The round
trips leave the processing path and "outputs durable, then inputs committed" still holds.
A rebalance (``on_partitions_revoked``) and ``aclose()`` commit what is finished before
the partitions are given up; a lost output stops the subscription from committing
anything more and makes its next ``fetch`` raise, so the processor restarts and the
uncommitted records are redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import OffsetAndMetadata

from engine.bus.base import EventBus, Record, Subscription
from engine.events.codec import DecodeError, EventCodec, WireFormat
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.memo import remember

log = logging.getLogger("alphapanda.bus")


class BusUnavailableError(RuntimeError):
    """The cluster cannot be reached; the message says where we tried."""


class OutputLostError(RuntimeError):
    """A message sent before this flush was not acknowledged: inputs must not be committed."""


class _CachedPartitioner:
    """aiokafka's default partitioning (murmur2 of the key, as the Java client) with the
    hash cached per key: the pure-Python murmur2 cost more per send than the rest of it,
    and the keys (instruments, strategies) repeat. Same partition for every key."""

    _MAX_KEYS = 65_536

    def __init__(self) -> None:
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return random.choice(available or all_partitions)
        return self.pick(key, all_partitions)

    def pick(self, key: bytes, all_partitions: list[int]) -> int:
        hashed = self._hashes.get(key)
        if hashed is None:
            hashed = remember(self._hashes, key, murmur2(key) & 0x7FFFFFFF, self._MAX_KEYS)
        return all_partitions[hashed % len(all_partitions)]


@contextlib.contextmanager
def _quiet_bootstrap() -> Iterator[None]:
    """aiokafka logs each failed first connection; ``BusUnavailableError`` says it once."""
    aiokafka_log = logging.getLogger("aiokafka")
    level = aiokafka_log.level
    aiokafka_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        aiokafka_log.setLevel(level)


@dataclass(slots=True, eq=False)
class _Batch:
    """Messages for one partition built in the bus: one C-level append per message instead
    of aiokafka's per-message coroutine and future; one delivery future per batch."""

    topic: str
    partition: int
    builder: BatchBuilder
    first: int  # number of its first message
    created: float  # loop time
    last: int = 0
    count: int = 0
    acked: asyncio.Future[None] | None = None  # done when acknowledged or failed


class _DecodeCache:
    """Envelopes by their exact bytes, two generations of ``size`` (at least ``size`` of
    the latest kept). Keyed by content, so a hit is the very decode of those bytes."""

    def __init__(self, codec: EventCodec, size: int = 4096) -> None:
        self._codec = codec
        self._size = size
        self.current: dict[bytes, EventEnvelope] = {}  # read directly on the hot path
        self._previous: dict[bytes, EventEnvelope] = {}
        self.keys: dict[bytes, str] = {}  # record keys repeat (instruments, strategies)

    def decode(self, raw: bytes | None) -> tuple[EventEnvelope | None, str | None]:
        """(envelope, None), or (None, why) for bytes that are not a valid envelope."""
        if raw is None:
            return None, "empty message"
        envelope = self.current.get(raw)
        if envelope is None:
            envelope = self._previous.get(raw)
            if envelope is None:
                try:
                    envelope = self._codec.decode(raw)
                except DecodeError as exc:
                    return None, str(exc)
            if len(self.current) >= self._size:
                self._previous, self.current = self.current, {}
            self.current[raw] = envelope
        return envelope, None

    def key(self, raw: bytes) -> str:
        return remember(self.keys, raw, raw.decode("utf-8", "replace"), 65_536)


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """TLS and SASL options; passwords arrive as plain strings from SecretStr at the edge."""

    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None

    def client_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"security_protocol": self.security_protocol}
        if self.security_protocol in {"SSL", "SASL_SSL"}:
            context: ssl.SSLContext = create_ssl_context(cafile=self.ssl_cafile)
            kwargs["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            if not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
                raise ValueError("SASL needs a mechanism, a username and a password")
            kwargs.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return kwargs


class KafkaBus(EventBus):
    backend = "kafka"
    durable_on_publish = False  # outputs are safe only once flushed: see StreamProcessor.run

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "alphapanda",
        partitions: int = 4,
        wire_format: WireFormat = "msgpack",
        acks: str | int = "all",
        idempotent: bool = True,
        security: KafkaSecurity | None = None,
        linger_ms: int = 2,
        max_batch_size: int = 65_536,
        max_request_size: int = 1_048_576,
        max_unacked: int = 10_000,
        request_timeout_ms: int = 10_000,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        commit_interval_ms: int = 100,
        fetch_max_wait_ms: int = 100,
    ) -> None:
        """``commit_interval_ms``: how often a subscription flushes the producer and commits
        what its processor finished (0: at every ``commit()``, one round trip per batch);
        a crash redelivers at most about that much, which dedup absorbs.
        ``fetch_max_wait_ms``: how long the broker may hold an empty fetch. Brokers that
        answer a held fetch only when it expires (Tansu) add up to that much latency per
        stage; with Kafka or Redpanda it only sets how often an idle consumer polls."""
        if commit_interval_ms < 0 or fetch_max_wait_ms < 0:
            raise ValueError("commit_interval_ms and fetch_max_wait_ms must be >= 0")
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.partitions = partitions
        self.codec = EventCodec(wire_format)
        self._acks = acks
        self._idempotent = idempotent
        self._security = security or KafkaSecurity()
        self._linger_ms = linger_ms
        self._max_batch_size = max_batch_size
        self._request_timeout_ms = request_timeout_ms
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self.commit_interval = commit_interval_ms / 1000
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._max_request_size = max_request_size
        self._producer: AIOKafkaProducer | None = None
        # Messages are numbered 1, 2, ... as they are appended to a batch; a flush that
        # starts after message n waits for every batch holding a message <= n.
        self._sent = 0
        self._open: dict[tuple[str, int], _Batch] = {}  # the newest batch per partition
        # Per partition: batches not yet handed to aiokafka, and the task handing them over.
        self._to_submit: dict[tuple[str, int], deque[_Batch]] = {}
        self._submitters: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._batches: deque[_Batch] = deque()  # in order of creation, until acknowledged
        self._unacked_count = 0
        self._max_unacked = max_unacked
        self._last_failed = 0  # number of the latest message seen failed (0: none)
        self._failure: BaseException | None = None
        self._flushed = 0  # what the public ``flush()`` has checked so far
        self._partitioner = _CachedPartitioner()
        self._partitions: dict[str, list[int]] = {}  # per topic, dropped on metadata change
        # Decoded envelopes by their bytes, shared by this bus's consumers: every stage
        # reads the ticks, and envelopes are frozen, so one decode serves them all.
        self._decoded = _DecodeCache(self.codec)
        self._known_topics: set[str] = set()
        self._subscriptions: list[KafkaSubscription] = []

    def _common(self) -> dict[str, object]:
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "request_timeout_ms": self._request_timeout_ms,
            **self._security.client_kwargs(),
        }

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            acks=self._acks,
            enable_idempotence=self._idempotent,
            linger_ms=self._linger_ms,
            max_batch_size=self._max_batch_size,
            max_request_size=self._max_request_size,
            partitioner=self._partitioner,
            **self._common(),
        )
        try:
            with _quiet_bootstrap():
                await producer.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await producer.stop()
            raise BusUnavailableError(
                f"cannot reach the Kafka cluster at {self.bootstrap_servers}: {exc}"
            ) from exc
        self._producer = producer
        producer.client.cluster.add_listener(self._metadata_changed)
        log.info(
            "producer started",
            extra={
                "backend": self.backend,
                "bootstrap": self.bootstrap_servers,
                "idempotent": self._idempotent,
            },
        )

    async def aclose(self) -> None:
        for sub in list(self._subscriptions):
            await sub.aclose()
        if self._producer is not None:
            try:
                await self.flush()
            finally:
                producer, self._producer = self._producer, None
                for task in list(self._submitters.values()):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await producer.stop()
                log.info("producer stopped", extra={"backend": self.backend})

    async def ensure_topics(self, topics: Sequence[str], partitions: int | None = None) -> None:
        """Create the topics that do not exist yet (``partitions`` each, default the bus's)."""
        missing = [t for t in topics if t not in self._known_topics]
        if not missing:
            return
        admin = AIOKafkaAdminClient(**self._common())
        try:
            await admin.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            raise BusUnavailableError(
                f"cannot reach the Kafka cluster at {self.bootstrap_servers}: {exc}"
            ) from exc
        try:
            existing = set(await admin.list_topics())
            new = [
                NewTopic(t, num_partitions=partitions or self.partitions, replication_factor=1)
                for t in missing
                if t not in existing
            ]
            if new:
                try:
                    await admin.create_topics(new)
                except TopicAlreadyExistsError:
                    pass
                log.info("topics created", extra={"topics": [t.name for t in new]})
            self._known_topics.update(missing)
        finally:
            await admin.close()

    async def publish(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> None:
        key = envelope.key if key is None else key
        value = self.codec.encode(envelope)
        if not self._append_now(topic, value, key):
            await self._append(topic, value, key)

    def publish_nowait(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> bool:
        """Append to the partition's open batch at once (no coroutine); False while the
        topic's metadata is unknown or too much is unacknowledged: use ``publish``."""
        partitions = self._partitions.get(topic)
        if partitions is None or self._unacked_count >= self._max_unacked:
            return False
        key = envelope.key if key is None else key
        self._add(topic, partitions, self.codec.encode(envelope), key)
        return True

    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        if not self._append_now(topic, raw, key):
            await self._append(topic, raw, key)

    def _append_now(self, topic: str, value: bytes, key: str | None) -> bool:
        partitions = self._partitions.get(topic)
        if partitions is None or self._unacked_count >= self._max_unacked:
            return False
        self._add(topic, partitions, value, key)
        return True

    async def _append(self, topic: str, value: bytes, key: str | None) -> None:
        """The slow path: learn the topic's partitions, wait while too much is unacked."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("bus is not started")
        partitions = self._partitions.get(topic)
        if partitions is None:
            # Bounded: while the process is torn down aiokafka's metadata task may be gone.
            async with asyncio.timeout(self._request_timeout_ms / 1000):
                known = await producer.partitions_for(topic)
            partitions = self._partitions[topic] = list(known)
        while self._unacked_count >= self._max_unacked:  # back-pressure: the broker is behind
            waiting = [b.acked for b in self._batches if b.acked and not b.acked.done()]
            if not waiting:
                break
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        self._add(topic, partitions, value, key)

    def _add(self, topic: str, partitions: list[int], value: bytes, key: str | None) -> None:
        """Append one message to its partition's open batch, or to a new one.

        A partition's batches are handed to aiokafka one after the other, in order, so the
        order per partition (per key) is the order of the calls. A batch takes messages
        until it is full or handed over; while the previous one is still queued inside
        aiokafka (a request in flight), the next one keeps filling.
        """
        producer = self._producer
        if producer is None:
            raise RuntimeError("bus is not started")
        key_bytes = key.encode() if key else None
        if len(value) + (len(key_bytes) if key_bytes else 0) > self._max_request_size:
            raise MessageSizeTooLargeError(f"{len(value)} bytes for {topic}")
        if key_bytes is None:
            partition = random.choice(partitions)
        else:
            partition = self._partitioner.pick(key_bytes, partitions)
        self._sent += 1
        tp = (topic, partition)
        batch = self._open.get(tp)
        if (
            batch is None
            or batch.builder.append(timestamp=None, key=key_bytes, value=value) is None
        ):  # no open batch, or it is full (the builder closed itself)
            loop = asyncio.get_running_loop()
            batch = _Batch(topic, partition, producer.create_batch(), self._sent, loop.time())
            batch.acked = loop.create_future()
            self._open[tp] = batch
            if batch.builder.append(timestamp=None, key=key_bytes, value=value) is None:
                raise MessageSizeTooLargeError(f"{len(value)} bytes for {topic}")
            self._batches.append(batch)
            queue = self._to_submit.get(tp)
            if queue is None:
                queue = self._to_submit[tp] = deque()
            queue.append(batch)
            if tp not in self._submitters:
                self._submitters[tp] = asyncio.create_task(
                    self._submit(tp, queue), name=f"kafka-bus:{topic}/{partition}"
                )
        batch.last = self._sent
        batch.count += 1
        self._unacked_count += 1

    async def _submit(self, tp: tuple[str, int], queue: deque[_Batch]) -> None:
        """Hand one partition's batches to aiokafka in order, each after ``linger_ms``.

        A batch is closed before it is handed over: aiokafka counts a batch's records when
        it takes it into a request (the idempotent producer's sequence numbers), so nothing
        may be added after that.
        """
        producer = self._producer
        loop = asyncio.get_running_loop()
        linger = self._linger_ms / 1000
        try:
            while queue and producer is not None:
                batch = queue[0]
                wait = batch.created + linger - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                batch.builder.close()
                if self._open.get(tp) is batch:
                    del self._open[tp]
                try:
                    future = await producer.send_batch(
                        batch.builder, batch.topic, partition=batch.partition
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    queue.popleft()
                    self._batch_done(batch, None, exc)
                    continue
                queue.popleft()
                future.add_done_callback(lambda f, b=batch: self._batch_done(b, f, None))
        finally:
            del self._submitters[tp]
            if queue and (producer is None or self._producer is None):
                for batch in queue:  # the producer is gone: these will never be sent
                    batch.builder.close()
                    self._open.pop(tp, None)
                    self._batch_done(batch, None, RuntimeError("producer stopped"))
                queue.clear()

    def _batch_done(
        self, batch: _Batch, future: asyncio.Future[object] | None, error: BaseException | None
    ) -> None:
        if future is not None:
            error = asyncio.CancelledError() if future.cancelled() else future.exception()
        if error is not None:
            self._last_failed = max(self._last_failed, batch.last)
            self._failure = error
            log.error(
                "messages not acknowledged",
                extra={"topic": batch.topic, "partition": batch.partition, "error": repr(error)},
            )
        self._unacked_count -= batch.count
        if batch.acked is not None and not batch.acked.done():
            batch.acked.set_result(None)
        batches = self._batches
        while batches and batches[0].acked is not None and batches[0].acked.done():
            batches.popleft()

    async def flush_since(self, checked: int) -> int:
        """Wait for every message appended so far; raise ``OutputLostError`` if one numbered
        above ``checked`` failed. Returns the number to pass as ``checked`` next time.

        Messages are numbered, not handed over to one flusher: two subscriptions flushing at
        once both wait for every message before their call, so neither can commit while
        another's outputs (or its own) are still unacknowledged or lost.
        """
        target = self._sent
        waiting = [b.acked for b in self._batches if b.first <= target and not b.acked.done()]
        if waiting:
            await asyncio.wait(waiting)
        if self._last_failed > checked:  # may also flag a later failure: safe, never late
            raise OutputLostError(
                f"a message sent to the cluster was not acknowledged: {self._failure!r}"
            ) from self._failure
        return target

    async def flush(self) -> None:
        """Wait until every message sent so far is acknowledged (raises if one failed since
        the previous ``flush``; each loss is reported once here)."""
        target = self._sent
        try:
            self._flushed = await self.flush_since(self._flushed)
        except OutputLostError:
            self._flushed = target
            raise

    def _metadata_changed(self, _cluster: object) -> None:
        self._partitions.clear()

    async def subscribe(self, topics: Sequence[str], group: str) -> KafkaSubscription:
        """Join ``group`` on ``topics``; commits follow ``commit_interval_ms`` (see module)."""
        await self.ensure_topics(topics)
        sub = KafkaSubscription(self, tuple(topics), group)
        await sub.start()
        self._subscriptions.append(sub)
        return sub


class KafkaSubscription(Subscription):
    """A consumer-group member with time-batched manual commits; decoding failures become
    error records.

    ``commit()`` records the next offset per partition (``_done``); the committer task
    commits it after a flush, at most every ``commit_interval`` seconds, and so do a
    rebalance and ``aclose()``. Offsets only ever come from records the processor
    finished, so a late or repeated commit can only cause redelivery, never a loss.
    """

    def __init__(self, bus: KafkaBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._consumer = AIOKafkaConsumer(
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=bus._session_timeout_ms,
            heartbeat_interval_ms=bus._heartbeat_interval_ms,
            fetch_max_wait_ms=bus._fetch_max_wait_ms,
            **bus._common(),
        )
        self._committed: dict[TopicPartition, int] = {}
        self._done: dict[TopicPartition, int] = {}  # next offset after the finished records
        self._dirty = asyncio.Event()  # ``_done`` moved past ``_committed``
        self._commit_lock = asyncio.Lock()
        # Bumped by every rebalance: a batch fetched before one is not recorded as done
        # (its partitions may have moved; it is redelivered and dedup skips it).
        self._epoch = 0
        self._fetched_epoch = 0
        self._checked = bus._sent  # outputs before this subscription are not ours to check
        self._failure: BaseException | None = None  # an output was lost: commit nothing more
        self._committer: asyncio.Task[None] | None = None
        self._closed = False
        self._extra = {"group": group}
        self._caught_up_since: float | None = None  # when ``caught_up`` was first asked

    async def start(self) -> None:
        """Join the group; returns once partitions are assigned (as aiokafka's start does)."""
        self._consumer.subscribe(list(self.topics), listener=_Rebalance(self))
        try:
            await self._consumer.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await self._consumer.stop()
            raise BusUnavailableError(
                f"cannot reach the Kafka cluster at {self._bus.bootstrap_servers}: {exc}"
            ) from exc
        if self._bus.commit_interval > 0:
            self._committer = asyncio.create_task(self._commit_loop(), name=f"commit:{self.group}")
        log.info(
            "kafka consumer started: group %s on %s",
            self.group,
            ", ".join(self.topics),
            extra={"group": self.group, "topics": list(self.topics)},
        )

    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        if self._closed:
            return []
        self._raise_if_failed()
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        self._fetched_epoch = self._epoch
        records: list[Record] = []
        append = records.append
        cache = self._bus._decoded
        decode = cache.decode
        keys = cache.keys
        for tp, messages in batches.items():
            topic, partition = tp.topic, tp.partition
            for msg in messages:
                raw_key, value = msg.key, msg.value
                key = keys.get(raw_key) if raw_key else None
                if key is None and raw_key:
                    key = cache.key(raw_key)
                envelope = cache.current.get(value) if value is not None else None
                if envelope is None:
                    envelope, error = decode(value)
                    append(Record(topic, partition, msg.offset, key, envelope, value, error))
                else:
                    append(Record(topic, partition, msg.offset, key, envelope, value))
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        """Mark the records done; the committer commits them once their outputs are acked.

        With ``commit_interval_ms=0`` this flushes and commits before returning.
        """
        self._raise_if_failed()
        if self._fetched_epoch != self._epoch:
            log.info("batch from before a rebalance not committed", extra={"group": self.group})
            return
        done = self._done
        last: dict[tuple[str, int], int] = {(r.topic, r.partition): r.offset for r in records}
        for (topic, partition), offset in last.items():
            tp = TopicPartition(topic, partition)
            if offset + 1 > done.get(tp, -1):
                done[tp] = offset + 1
        self._dirty.set()
        if self._committer is None:
            await self._commit_done()
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise OutputLostError(
                f"{self.group}: an output was not acknowledged; nothing more is committed"
            ) from self._failure

    async def _commit_loop(self) -> None:
        """Every ``commit_interval`` while there is something to commit."""
        interval = self._bus.commit_interval
        while not self._closed:
            await self._dirty.wait()
            await asyncio.sleep(interval)
            try:
                await self._commit_done()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never die silently: the next one retries
                log.warning("commit failed", extra={"group": self.group, "error": repr(exc)})
                await asyncio.sleep(interval)

    async def _commit_done(self) -> None:
        """Flush the producer, then commit the finished offsets of assigned partitions.

        The offsets are taken before the flush starts, so every output of those records
        was already sent and is among what the flush waits for.
        """
        async with self._commit_lock:
            if self._failure is not None:
                return
            committed = self._committed
            offsets = {tp: o for tp, o in self._done.items() if committed.get(tp, -1) < o}
            self._dirty.clear()
            if not offsets:
                return
            try:
                self._checked = await self._bus.flush_since(self._checked)
            except OutputLostError as exc:
                self._failure = exc
                log.error(
                    "outputs lost: offsets not committed; the processor restarts",
                    extra={"group": self.group, "error": str(exc)},
                )
                return
            assigned = self._consumer.assignment()
            offsets = {tp: o for tp, o in offsets.items() if tp in assigned}
            if not offsets:
                return
            try:
                await self._consumer.commit(
                    {tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()}
                )
            except (CommitFailedError, IllegalStateError) as exc:
                # Rebalanced away: the new owner gets these records again and dedup skips them.
                log.warning(
                    "commit failed after rebalance", extra={"group": self.group, "error": str(exc)}
                )
                return
            except KafkaError:
                self._dirty.set()  # the broker is unwell: try again next interval
                raise
            for tp, offset in offsets.items():
                committed[tp] = max(committed.get(tp, -1), offset)

    async def _revoked(self, revoked: Collection[TopicPartition]) -> None:
        """Before giving partitions up: commit what is finished, forget the rest."""
        self._epoch += 1
        try:
            async with asyncio.timeout(self._bus._request_timeout_ms / 1000):
                await self._commit_done()
        except Exception as exc:  # redelivered to the next owner; dedup skips what was done
            log.warning(
                "commit before rebalance failed", extra={"group": self.group, "error": repr(exc)}
            )
        for tp in revoked:
            self._done.pop(tp, None)
            self._committed.pop(tp, None)

    async def _assigned(self, assigned: Collection[TopicPartition]) -> None:
        self._epoch += 1

    async def rewind(self) -> None:
        await self._commit_done()
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    def lag(self) -> int:
        """Messages in the assigned partitions this member has not finished yet (finished
        ones are committed within ``commit_interval_ms``)."""
        lag = 0
        done, committed = self._done, self._committed
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            lag += max(0, high - max(done.get(tp, 0), committed.get(tp, 0)))
        return lag

    def uncommitted(self) -> int:
        committed = self._committed
        return sum(1 for tp, offset in self._done.items() if committed.get(tp, -1) < offset)

    async def caught_up(self, since: float | None = None) -> bool:
        """True once every assigned partition has had a fetch response after ``since``
        (default: the first ask) and nothing up to its high watermark is unfinished. (The
        end offsets the test broker lists are not record counts, and ``lag()`` alone
        reads watermarks that may predate the last messages upstream sent.)"""
        if since is None:
            if self._caught_up_since is None:
                self._caught_up_since = time.time()
            since = self._caught_up_since
        since_ms = since * 1000
        consumer = self._consumer
        for tp in consumer.assignment():
            polled = consumer.last_poll_timestamp(tp)
            if polled is None or polled < since_ms:
                return False
        return self.lag() == 0

    async def aclose(self) -> None:
        """Commit what is finished (after a flush), then leave the group."""
        if self._closed:
            return
        self._closed = True
        committer, self._committer = self._committer, None
        if committer is not None:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
        try:
            if _cancelling():
                # Cancelled (not stopped): the producer may be going down with us, so do not
                # wait for acknowledgements; what is uncommitted is redelivered.
                log.warning("cancelled: finished records left uncommitted", extra=self._extra)
            else:
                async with asyncio.timeout(self._bus._request_timeout_ms / 1000):
                    await self._commit_done()
        except Exception as exc:  # redelivered to the next member; dedup skips it
            log.warning("final commit failed", extra={**self._extra, "error": repr(exc)})
        finally:
            await self._consumer.stop()
            if self in self._bus._subscriptions:
                self._bus._subscriptions.remove(self)
            log.info("kafka consumer stopped: group %s", self.group, extra={"group": self.group})


class _Rebalance(ConsumerRebalanceListener):
    """Hands aiokafka's rebalance callbacks to their owner's ``_revoked`` / ``_assigned``."""

    def __init__(self, owner: KafkaSubscription | KafkaLease) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self._owner._revoked(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        await self._owner._assigned(assigned)


# -- singletons: one process at a time, hot standby in the others ------------------------

LEASE_TOPIC = "alphapanda.leases"


class KafkaLease:
    """Leader election through a consumer group on a one-partition topic.

    Every process that may run a singleton joins group ``lease.{name}``; the group gives
    the one partition to exactly one member, which holds the lease until it leaves, dies
    (after ``session_timeout_ms``) or loses the cluster. ``on_lost`` is awaited before the
    group rebalances, so a graceful hand-over stops the old holder before the new one starts.

    The assignment is sticky: a process joining the group (a standby starting) leaves the
    lease with its holder. Round-robin would move it to whichever member id sorts first,
    and a live execution that moves halts and reconciles, so starting a standby would halt
    trading about half the time. Round-robin stays offered for members that lack sticky.
    """

    def __init__(self, bus: KafkaBus, name: str) -> None:
        self.bus = bus
        self.name = name
        self.group = f"lease.{name}"
        self.held = asyncio.Event()
        self.lost = asyncio.Event()
        self.on_lost: Callable[[], Awaitable[None]] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bus.ensure_topics([LEASE_TOPIC], partitions=1)
        consumer = AIOKafkaConsumer(
            group_id=self.group,
            enable_auto_commit=False,
            partition_assignment_strategy=(
                _sticky_assignor(self.name),
                RoundRobinPartitionAssignor,
            ),
            session_timeout_ms=self.bus._session_timeout_ms,
            heartbeat_interval_ms=self.bus._heartbeat_interval_ms,
            **self.bus._common(),
        )
        try:
            await consumer.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await consumer.stop()
            raise BusUnavailableError(
                f"cannot reach the Kafka cluster at {self.bus.bootstrap_servers}: {exc}"
            ) from exc
        consumer.subscribe([LEASE_TOPIC], listener=_Rebalance(self))
        self._consumer = consumer
        # The group only keeps a member that polls; the topic stays empty, so this is cheap.
        self._poller = asyncio.create_task(self._poll(), name=f"lease:{self.name}")

    async def _poll(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                await self._consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the cluster dropped: aiokafka reconnects by itself
                log.warning("lease poll failed", extra={"lease": self.name, "error": str(exc)})
                await asyncio.sleep(1.0)

    async def _assigned(self, partitions: Collection[TopicPartition]) -> None:
        if any(tp.topic == LEASE_TOPIC for tp in partitions):
            self.lost.clear()
            self.held.set()
            log.warning("lease %s acquired", self.name, extra={"lease": self.name})

    async def _revoked(self, partitions: Collection[TopicPartition]) -> None:
        if not self.held.is_set():
            return
        self.held.clear()
        self.lost.set()
        log.warning("lease %s released", self.name, extra={"lease": self.name})
        if self.on_lost is not None:
            await self.on_lost()

    async def aclose(self) -> None:
        """Leave the group: a standby takes over at once (no session timeout to wait)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._consumer is not None:
            self.on_lost = None
            await self._consumer.stop()
            self._consumer = None
        self.held.clear()


def _sticky_assignor(lease: str) -> type[StickyPartitionAssignor]:
    """aiokafka's sticky assignor keeps what it holds in class attributes: one subclass per
    lease, or the leases of one process (feed, risk, execution…) would share that state."""
    return type(f"StickyLeaseAssignor[{lease}]", (StickyPartitionAssignor,), {})


class LeasedService:
    """Runs ``inner`` (a supervised service) only while this process holds its lease.

    For what must be one per cluster: the feed (two would publish every tick twice), risk
    (limits are totals over all orders), execution (the paper venue and the kill switch's
    cancel-all live in one process) and the portfolio (totals and P&L need every fill).
    The other processes wait as hot standbys; the holder's death hands the lease over
    within the session timeout and the new holder rebuilds its state from storage.

    ``on_active`` is awaited each time this process takes the lease, before ``inner``
    starts: live execution halts there, so a standby that starts halts nothing while a
    new holder halts before it can send an order. If it fails, ``inner`` does not start:
    the lease is given up and the supervisor retries with backoff. A rebalance that hands
    the lease straight back (same member, next generation: nobody else held it) is not a
    take-over, so a process joining the group does not make the holder run it again.
    """

    def __init__(
        self,
        inner: Any,
        bus: KafkaBus,
        lease_name: str,
        stop_timeout: float = 10.0,
        on_active: Callable[[], Awaitable[None]] | None = None,
    ):
        self.inner = inner
        self.name = inner.name
        self.lease_name = lease_name
        self._bus = bus
        self._stop_timeout = stop_timeout
        self._on_active = on_active
        self._held_as: tuple[str, int] | None = None  # (member id, generation) last held
        self._stopping = asyncio.Event()
        self._inner_task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._inner_task is not None and not self._inner_task.done()

    async def run(self) -> None:
        self._stopping.clear()
        self._held_as = None
        lease = KafkaLease(self._bus, self.lease_name)
        lease.on_lost = self._abandon
        await lease.start()
        try:
            while not self._stopping.is_set():
                if not await self._first(lease.held.wait()):
                    break
                if not await self._activate(lease):
                    continue
                self._inner_task = asyncio.create_task(self.inner.run(), name=f"svc:{self.name}")
                log.warning("singleton %s active here", self.name, extra={"service": self.name})
                task = self._inner_task
                await self._first(lease.lost.wait(), task)
                if task.done() and not lease.lost.is_set() and not self._stopping.is_set():
                    # A crash: give the lease up; the supervisor restarts us with backoff.
                    self._inner_task = None
                    failure = None if task.cancelled() else task.exception()
                    raise RuntimeError(f"{self.name} stopped while holding its lease") from failure
                await self._stop_inner(abandon=lease.lost.is_set())
        finally:
            await self._stop_inner()
            await lease.aclose()

    async def _activate(self, lease: KafkaLease) -> bool:
        """Await ``on_active``; False when stopping or the lease went meanwhile.

        Raises when the hook failed, so ``inner`` never runs without it (e.g. unhalted).
        """
        previous, self._held_as = self._held_as, _membership(lease)
        if self._on_active is None or _kept(previous, self._held_as):
            return True
        hook = asyncio.ensure_future(self._on_active())
        if not await self._first(hook):
            return False
        try:
            hook.result()
        except Exception as exc:
            self._held_as = None  # the next holding must run it again
            log.error(
                "singleton activation failed", extra={"service": self.name, "error": repr(exc)}
            )
            raise RuntimeError(f"{self.name} did not start: its activation failed") from exc
        return lease.held.is_set() and not lease.lost.is_set()

    async def _first(self, *waits: Awaitable[Any]) -> bool:
        """Wait for the first of ``waits`` or ``stop()``; False when stopping came first."""
        stop = asyncio.ensure_future(self._stopping.wait())
        tasks = [asyncio.ensure_future(w) for w in waits]
        try:
            await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, *tasks):
                if task is not self._inner_task and not task.done():
                    task.cancel()
        return not self._stopping.is_set()

    async def _abandon(self) -> None:
        await self._stop_inner(abandon=True)

    async def _stop_inner(self, abandon: bool = False) -> None:
        """Stop ``inner``; ``abandon`` when the lease is gone: another process owns the work
        now, so a processor stops after the batch in hand instead of draining its input."""
        task = self._inner_task
        if task is None:
            return
        give_up = getattr(self.inner, "abandon", None) if abandon else None
        if give_up is not None:
            give_up()
        else:
            self.inner.stop()
        try:
            async with asyncio.timeout(self._stop_timeout):
                await asyncio.shield(task)
        except TimeoutError:
            log.error("singleton did not stop in time; cancelling", extra={"service": self.name})
            task.cancel()
        except asyncio.CancelledError:
            if _cancelling():
                raise  # this caller is being cancelled; the inner task ended cancelled otherwise
        except Exception:
            log.warning("singleton ended with an error", extra={"service": self.name})
        finally:
            if self._inner_task is task:
                self._inner_task = None

    def stop(self) -> None:
        self._stopping.set()
        self.inner.stop()

    def health(self) -> ComponentHealth:
        if self.active:
            return self.inner.health()
        return ComponentHealth(name=self.name, status=ComponentStatus.STOPPED, detail="standby")


def _membership(lease: KafkaLease) -> tuple[str, int] | None:
    """The lease consumer's (member id, generation); aiokafka keeps them in its coordinator."""
    coordinator = getattr(lease._consumer, "_coordinator", None)
    member = getattr(coordinator, "member_id", None)
    generation = getattr(coordinator, "generation", None)
    if not member or not isinstance(generation, int) or generation < 0:
        return None
    return str(member), generation


def _kept(previous: tuple[str, int] | None, now: tuple[str, int] | None) -> bool:
    """True when the lease came straight back: same member, the very next generation."""
    return previous is not None and now is not None and now == (previous[0], previous[1] + 1)


def _cancelling() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0
