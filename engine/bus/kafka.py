"""Kafka (Redpanda or any Kafka-protocol broker) backend of the event bus, over aiokafka.

Producer: ``acks=all``, idempotence switchable (some brokers lack it; consumer-side
dedup keeps effects exactly-once without it), sends are pipelined and ``flush()``
waits for every acknowledgement, so a processor commits its input only after its
outputs are durable. Consumers: one group per service, manual commits, earliest reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaConnectionError,
    KafkaError,
    TopicAlreadyExistsError,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import OffsetAndMetadata

from engine.bus.base import EventBus, Record, Subscription
from engine.events.codec import DecodeError, EventCodec, WireFormat
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus

log = logging.getLogger("alphapanda.bus")


class BusUnavailableError(RuntimeError):
    """The cluster cannot be reached; the message says where we tried."""


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
        request_timeout_ms: int = 10_000,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.partitions = partitions
        self.codec = EventCodec(wire_format)
        self._acks = acks
        self._idempotent = idempotent
        self._security = security or KafkaSecurity()
        self._linger_ms = linger_ms
        self._request_timeout_ms = request_timeout_ms
        self._session_timeout_ms = session_timeout_ms
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._producer: AIOKafkaProducer | None = None
        self._pending: list[asyncio.Future[object]] = []
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
                await self._producer.stop()
                self._producer = None
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
        await self._send(topic, self.codec.encode(envelope), key)

    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        await self._send(topic, raw, key)

    async def _send(self, topic: str, value: bytes, key: str | None) -> None:
        if self._producer is None:
            raise RuntimeError("bus is not started")
        future = await self._producer.send(topic, value=value, key=key.encode() if key else None)
        self._pending.append(future)
        if len(self._pending) >= 10_000:
            await self.flush()

    async def flush(self) -> None:
        """Wait until every message sent so far is acknowledged (raises if one failed)."""
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)

    async def subscribe(self, topics: Sequence[str], group: str) -> KafkaSubscription:
        await self.ensure_topics(topics)
        sub = KafkaSubscription(self, tuple(topics), group)
        await sub.start()
        self._subscriptions.append(sub)
        return sub


class KafkaSubscription(Subscription):
    """A consumer-group member with manual commits; decoding failures become error records."""

    def __init__(self, bus: KafkaBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._consumer = AIOKafkaConsumer(
            *topics,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=bus._session_timeout_ms,
            heartbeat_interval_ms=bus._heartbeat_interval_ms,
            **bus._common(),
        )
        self._committed: dict[TopicPartition, int] = {}
        self._closed = False

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await self._consumer.stop()
            raise BusUnavailableError(
                f"cannot reach the Kafka cluster at {self._bus.bootstrap_servers}: {exc}"
            ) from exc
        log.info("consumer started", extra={"group": self.group, "topics": list(self.topics)})

    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        if self._closed:
            return []
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        records: list[Record] = []
        decode = self._bus.codec.decode
        for tp, messages in batches.items():
            for msg in messages:
                key = msg.key.decode("utf-8", "replace") if msg.key else None
                try:
                    envelope: EventEnvelope | None = decode(msg.value)
                    error = None
                except DecodeError as exc:
                    envelope, error = None, str(exc)
                records.append(
                    Record(tp.topic, tp.partition, msg.offset, key, envelope, msg.value, error)
                )
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for rec in records:
            offsets[TopicPartition(rec.topic, rec.partition)] = OffsetAndMetadata(
                rec.offset + 1, ""
            )
        # Outputs of these records must be durable before their inputs are committed.
        await self._bus.flush()
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # Rebalanced away: the new owner gets these records again and dedup skips them.
            log.warning(
                "commit failed after rebalance", extra={"group": self.group, "error": str(exc)}
            )
            return
        for tp, meta in offsets.items():
            self._committed[tp] = meta.offset

    async def rewind(self) -> None:
        for tp in self._consumer.assignment():
            committed = await self._consumer.committed(tp)
            if committed is None:
                await self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, committed)

    def lag(self) -> int:
        lag = 0
        for tp in self._consumer.assignment():
            high = self._consumer.highwater(tp)
            if high is None:
                continue
            lag += max(0, high - self._committed.get(tp, 0))
        return lag

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._consumer.stop()
        if self in self._bus._subscriptions:
            self._bus._subscriptions.remove(self)
        log.info("consumer stopped", extra={"group": self.group})


# -- singletons: one process at a time, hot standby in the others ------------------------

LEASE_TOPIC = "alphapanda.leases"


class KafkaLease:
    """Leader election through a consumer group on a one-partition topic.

    Every process that may run a singleton joins group ``lease.{name}``; the group gives
    the one partition to exactly one member, which holds the lease until it leaves, dies
    (after ``session_timeout_ms``) or loses the cluster. ``on_lost`` is awaited before the
    group rebalances, so a graceful hand-over stops the old holder before the new one starts.
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
        consumer.subscribe([LEASE_TOPIC], listener=_LeaseListener(self))
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


class _LeaseListener(ConsumerRebalanceListener):
    def __init__(self, lease: KafkaLease) -> None:
        self._lease = lease

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self._lease._revoked(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        await self._lease._assigned(assigned)


class LeasedService:
    """Runs ``inner`` (a supervised service) only while this process holds its lease.

    For what must be one per cluster: the feed (two would publish every tick twice), risk
    (limits are totals over all orders), execution (the paper venue and the kill switch's
    cancel-all live in one process) and the portfolio (totals and P&L need every fill).
    The other processes wait as hot standbys; the holder's death hands the lease over
    within the session timeout and the new holder rebuilds its state from storage.
    """

    def __init__(self, inner: Any, bus: KafkaBus, lease_name: str, stop_timeout: float = 10.0):
        self.inner = inner
        self.name = inner.name
        self.lease_name = lease_name
        self._bus = bus
        self._stop_timeout = stop_timeout
        self._stopping = asyncio.Event()
        self._inner_task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._inner_task is not None and not self._inner_task.done()

    async def run(self) -> None:
        self._stopping.clear()
        lease = KafkaLease(self._bus, self.lease_name)
        lease.on_lost = self._stop_inner
        await lease.start()
        try:
            while not self._stopping.is_set():
                if not await self._first(lease.held.wait()):
                    break
                self._inner_task = asyncio.create_task(self.inner.run(), name=f"svc:{self.name}")
                log.warning("singleton %s active here", self.name, extra={"service": self.name})
                task = self._inner_task
                await self._first(lease.lost.wait(), task)
                if task.done() and not lease.lost.is_set() and not self._stopping.is_set():
                    # A crash: give the lease up; the supervisor restarts us with backoff.
                    self._inner_task = None
                    failure = None if task.cancelled() else task.exception()
                    raise RuntimeError(f"{self.name} stopped while holding its lease") from failure
                await self._stop_inner()
        finally:
            await self._stop_inner()
            await lease.aclose()

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

    async def _stop_inner(self) -> None:
        task = self._inner_task
        if task is None:
            return
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


def _cancelling() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0
