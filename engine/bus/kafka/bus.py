"""Kafka (Redpanda or any Kafka-protocol broker) backend of the event bus, over aiokafka.

The bus ties the parts together: one batching producer (``producer``), one consumer
group member per ``subscribe`` whose commits wait for the producer's acknowledgements
(``subscription``), leases for the services that must run once per cluster (``lease``)
and the connection settings they all share (``security``); ``unreachable`` tells an
outage from a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from engine.bus.base import EventBus, SupervisedService
from engine.bus.kafka.lease import LeasedService
from engine.bus.kafka.producer import BatchingProducer, ProducerSettings
from engine.bus.kafka.security import KafkaConnection, KafkaSecurity
from engine.bus.kafka.subscription import DecodeCache, KafkaSubscription
from engine.bus.kafka.unreachable import is_unreachable
from engine.events.codec import EventCodec, WireFormat
from engine.events.envelope import EventEnvelope

log = logging.getLogger("alphapanda.bus")


class KafkaBus(EventBus):
    backend = "kafka"
    durable_on_publish = False  # outputs are safe only once flushed: see StreamProcessor.run
    shared_by_processes = True

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
        self.connection = KafkaConnection(
            bootstrap_servers,
            client_id=client_id,
            request_timeout_ms=request_timeout_ms,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            security=security or KafkaSecurity(),
        )
        self.commit_interval = commit_interval_ms / 1000
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self.producer = BatchingProducer(
            self.connection,
            ProducerSettings(
                acks=acks,
                idempotent=idempotent,
                linger_ms=linger_ms,
                max_batch_size=max_batch_size,
                max_request_size=max_request_size,
                max_unacked=max_unacked,
            ),
        )
        # Decoded envelopes by their bytes, shared by this bus's consumers.
        self._decoded = DecodeCache(self.codec)
        self._known_topics: set[str] = set()
        self._subscriptions: list[KafkaSubscription] = []

    async def start(self) -> None:
        await self.producer.start()

    async def aclose(self) -> None:
        for sub in list(self._subscriptions):
            await sub.aclose()
        await self.producer.stop()

    async def ensure_topics(self, topics: Sequence[str], partitions: int | None = None) -> None:
        """Create the topics that do not exist yet (``partitions`` each, default the bus's)."""
        missing = [t for t in topics if t not in self._known_topics]
        if not missing:
            return
        admin = AIOKafkaAdminClient(**self.connection.client_kwargs())
        try:
            await admin.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            raise self.connection.unreachable(exc) from exc
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
        if not self.producer.append_now(topic, value, key):
            await self.producer.append(topic, value, key)

    def publish_nowait(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> bool:
        """Append to the partition's open batch at once (no coroutine); False while the
        topic's metadata is unknown or too much is unacknowledged: use ``publish``."""
        producer = self.producer
        partitions = producer.partitions_ready(topic)
        if partitions is None:
            return False
        key = envelope.key if key is None else key
        producer.add(topic, partitions, self.codec.encode(envelope), key)
        return True

    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        if not self.producer.append_now(topic, raw, key):
            await self.producer.append(topic, raw, key)

    async def flush(self) -> None:
        """Wait until every message sent so far is acknowledged (raises ``OutputLostError``
        if one failed since the previous ``flush``; each loss is reported once here)."""
        await self.producer.flush()

    async def subscribe(self, topics: Sequence[str], group: str) -> KafkaSubscription:
        """Join ``group`` on ``topics``; commits follow ``commit_interval_ms`` (see
        ``engine.bus.kafka.subscription``)."""
        return await self.subscribe_from_end(topics, group, ())

    async def subscribe_from_end(
        self, topics: Sequence[str], group: str, from_end: Collection[str]
    ) -> KafkaSubscription:
        """``subscribe``; a partition of a ``from_end`` topic with no committed offset in
        ``group`` starts at its end (the others, as every engine group: committed, else
        earliest)."""
        await self.ensure_topics(topics)
        sub = KafkaSubscription(
            tuple(topics),
            group,
            from_end=frozenset(from_end),
            connection=self.connection,
            producer=self.producer,
            decoded=self._decoded,
            commit_interval=self.commit_interval,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            on_close=self._forget,
        )
        await sub.start()
        self._subscriptions.append(sub)
        return sub

    def _forget(self, sub: KafkaSubscription) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)

    def is_outage(self, exc: BaseException) -> bool:
        """True when ``exc`` (or a cause of it) is a failure to reach the cluster."""
        return is_unreachable(exc)

    def total_lag(self) -> int:
        """What this process's subscriptions have not finished (other processes' groups and
        members are not counted: each reports its own)."""
        return sum(sub.lag() for sub in self._subscriptions)

    def singleton(
        self,
        service: SupervisedService,
        lease: str,
        on_active: Callable[[], Awaitable[None]] | None = None,
    ) -> SupervisedService:
        """``service`` run only while this process holds ``lease`` (see ``LeasedService``)."""
        return LeasedService(service, self, lease, on_active=on_active)
