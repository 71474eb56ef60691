"""The Kafka bus's producer: batches built in the bus, handed to aiokafka in order.

The bus builds the batches itself, one per partition, and hands them to aiokafka in
order (``send_batch``): a publish is one C-level append, without aiokafka's per-message
coroutine and future, and ``publish_nowait`` works. Messages are numbered as they are
appended, so a flush waits for (and checks) exactly the messages appended before it,
whoever else is flushing. ``acks=all``; idempotence switchable (some brokers lack it;
consumer-side dedup keeps effects exactly-once without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    UnknownError,
    UnsupportedVersionError,
)
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

from engine.bus.kafka.security import BusUnavailableError, KafkaConnection, quiet_bootstrap
from engine.memo import remember

log = logging.getLogger("alphapanda.bus")
# What a broker answers an idempotent producer's first request (its producer id) when it
# cannot have one: Tansu answers UnknownError, an old Kafka UnsupportedVersion, one without
# the IdempotentWrite ACL ClusterAuthorizationFailed.
_PRODUCER_ID_REFUSED = (UnknownError, UnsupportedVersionError, ClusterAuthorizationFailedError)


class OutputLostError(RuntimeError):
    """A message sent before this flush was not acknowledged: inputs must not be committed."""


class CachedPartitioner:
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


@dataclass(slots=True, eq=False)
class PendingBatch:
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


@dataclass(frozen=True, slots=True)
class ProducerSettings:
    """How the producer batches and how far it may run ahead of the broker."""

    acks: str | int = "all"
    idempotent: bool = True
    linger_ms: int = 2
    max_batch_size: int = 65_536
    max_request_size: int = 1_048_576
    max_unacked: int = 10_000


class BatchingProducer:
    """Appends encoded messages to per-partition batches and tracks their acknowledgement."""

    def __init__(self, connection: KafkaConnection, settings: ProducerSettings) -> None:
        self._connection = connection
        self._settings = settings
        self._max_request_size = settings.max_request_size
        self._max_unacked = settings.max_unacked
        self._client: AIOKafkaProducer | None = None
        # Messages are numbered 1, 2, ... as they are appended to a batch; a flush that
        # starts after message n waits for every batch holding a message <= n.
        self.sent = 0
        self._open: dict[tuple[str, int], PendingBatch] = {}  # the newest batch per partition
        # Per partition: batches not yet handed to aiokafka, and the task handing them over.
        self._to_submit: dict[tuple[str, int], deque[PendingBatch]] = {}
        self._submitters: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._batches: deque[PendingBatch] = deque()  # in order of creation, until acknowledged
        self.unacked_count = 0
        self._last_failed = 0  # number of the latest message seen failed (0: none)
        self._failure: BaseException | None = None
        self._flushed = 0  # what the public ``flush()`` has checked so far
        self._partitioner = CachedPartitioner()
        self._partitions: dict[str, list[int]] = {}  # per topic, dropped on metadata change

    async def start(self) -> None:
        settings, connection = self._settings, self._connection
        client = AIOKafkaProducer(
            acks=settings.acks,
            enable_idempotence=settings.idempotent,
            linger_ms=settings.linger_ms,
            max_batch_size=settings.max_batch_size,
            max_request_size=settings.max_request_size,
            partitioner=self._partitioner,
            **connection.client_kwargs(),
        )
        try:
            with quiet_bootstrap():
                await client.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await client.stop()
            if settings.idempotent and isinstance(exc, _PRODUCER_ID_REFUSED):
                # it answered, then refused the producer id an idempotent producer asks for
                # first (Tansu answers UnknownError): "cannot reach" sent the trader to the
                # network
                raise BusUnavailableError(
                    f"the Kafka cluster at {connection.bootstrap_servers} refused an "
                    f"idempotent producer: {exc}; if it does not support them, set "
                    "ALPHAPANDA_BUS__IDEMPOTENT_PRODUCER=false"
                ) from exc
            raise connection.unreachable(exc) from exc
        self._client = client
        client.client.cluster.add_listener(self._metadata_changed)
        log.info(
            "producer started",
            extra={
                "backend": "kafka",
                "bootstrap": connection.bootstrap_servers,
                "idempotent": settings.idempotent,
            },
        )

    async def stop(self) -> None:
        """Flush what was sent, then stop (raises ``OutputLostError`` after stopping)."""
        if self._client is None:
            return
        try:
            await self.flush()
        finally:
            client, self._client = self._client, None
            for task in list(self._submitters.values()):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.stop()
            log.info("producer stopped", extra={"backend": "kafka"})

    def partitions_ready(self, topic: str) -> list[int] | None:
        """The topic's partitions when a message can be appended at once, else None (the
        topic's metadata is unknown or too much is unacknowledged: await ``append``)."""
        partitions = self._partitions.get(topic)
        if partitions is None or self.unacked_count >= self._max_unacked:
            return None
        return partitions

    def append_now(self, topic: str, value: bytes, key: str | None) -> bool:
        partitions = self.partitions_ready(topic)
        if partitions is None:
            return False
        self.add(topic, partitions, value, key)
        return True

    async def append(self, topic: str, value: bytes, key: str | None) -> None:
        """The slow path: learn the topic's partitions, wait while too much is unacked."""
        client = self._client
        if client is None:
            raise RuntimeError("bus is not started")
        partitions = self._partitions.get(topic)
        if partitions is None:
            # Bounded: while the process is torn down aiokafka's metadata task may be gone.
            async with asyncio.timeout(self._connection.request_timeout):
                known = await client.partitions_for(topic)
            partitions = self._partitions[topic] = list(known)
        while self.unacked_count >= self._max_unacked:  # back-pressure: the broker is behind
            waiting = [b.acked for b in self._batches if b.acked and not b.acked.done()]
            if not waiting:
                break
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        self.add(topic, partitions, value, key)

    def add(self, topic: str, partitions: list[int], value: bytes, key: str | None) -> None:
        """Append one message to its partition's open batch, or to a new one.

        A partition's batches are handed to aiokafka one after the other, in order, so the
        order per partition (per key) is the order of the calls. A batch takes messages
        until it is full or handed over; while the previous one is still queued inside
        aiokafka (a request in flight), the next one keeps filling.
        """
        client = self._client
        if client is None:
            raise RuntimeError("bus is not started")
        key_bytes = key.encode() if key else None
        if len(value) + (len(key_bytes) if key_bytes else 0) > self._max_request_size:
            raise MessageSizeTooLargeError(f"{len(value)} bytes for {topic}")
        if key_bytes is None:
            partition = random.choice(partitions)
        else:
            partition = self._partitioner.pick(key_bytes, partitions)
        self.sent += 1
        tp = (topic, partition)
        batch = self._open.get(tp)
        if (
            batch is None
            or batch.builder.append(timestamp=None, key=key_bytes, value=value) is None
        ):  # no open batch, or it is full (the builder closed itself)
            batch = self._new_batch(client, tp, key_bytes, value)
        batch.last = self.sent
        batch.count += 1
        self.unacked_count += 1

    def _new_batch(
        self, client: AIOKafkaProducer, tp: tuple[str, int], key: bytes | None, value: bytes
    ) -> PendingBatch:
        """Open a partition's next batch holding this message; queue it for submission."""
        topic, partition = tp
        loop = asyncio.get_running_loop()
        batch = PendingBatch(topic, partition, client.create_batch(), self.sent, loop.time())
        batch.acked = loop.create_future()
        self._open[tp] = batch
        if batch.builder.append(timestamp=None, key=key, value=value) is None:
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
        return batch

    async def _submit(self, tp: tuple[str, int], queue: deque[PendingBatch]) -> None:
        """Hand one partition's batches to aiokafka in order, each after ``linger_ms``.

        A batch is closed before it is handed over: aiokafka counts a batch's records when
        it takes it into a request (the idempotent producer's sequence numbers), so nothing
        may be added after that.
        """
        client = self._client
        loop = asyncio.get_running_loop()
        linger = self._settings.linger_ms / 1000
        try:
            while queue and client is not None:
                batch = queue[0]
                wait = batch.created + linger - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                batch.builder.close()
                if self._open.get(tp) is batch:
                    del self._open[tp]
                try:
                    future = await client.send_batch(
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
            if queue and (client is None or self._client is None):
                for batch in queue:  # the producer is gone: these will never be sent
                    batch.builder.close()
                    self._open.pop(tp, None)
                    self._batch_done(batch, None, RuntimeError("producer stopped"))
                queue.clear()

    def _batch_done(
        self,
        batch: PendingBatch,
        future: asyncio.Future[object] | None,
        error: BaseException | None,
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
        self.unacked_count -= batch.count
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
        target = self.sent
        waiting = [
            b.acked
            for b in self._batches
            if b.first <= target and b.acked is not None and not b.acked.done()
        ]
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
        target = self.sent
        try:
            self._flushed = await self.flush_since(self._flushed)
        except OutputLostError:
            self._flushed = target
            raise

    def _metadata_changed(self, _cluster: object) -> None:
        self._partitions.clear()
