"""Kafka (Redpanda or any Kafka-protocol broker) backend of the event bus, over aiokafka.

Producer: ``acks=all``, idempotence switchable (some brokers lack it; consumer-side
dedup keeps effects exactly-once without it), sends are pipelined and ``flush()``
waits for every acknowledgement, so a processor commits its input only after its
outputs are durable. Consumers: one group per service, manual commits, earliest reset.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
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

log = logging.getLogger("alphapanda.bus")


class BusUnavailableError(RuntimeError):
    """The cluster cannot be reached; the message says where we tried."""


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

    async def ensure_topics(self, topics: Sequence[str]) -> None:
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
                NewTopic(t, num_partitions=self.partitions, replication_factor=1)
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
