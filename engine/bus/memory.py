"""In-process bus: bounded partition logs with consumer-group offsets and back-pressure.

Each topic has ``partitions`` logs; a key always lands on the same partition, so order
per key holds. A log keeps a message until every group subscribed to the topic has
committed it; a producer that would put a partition ``capacity`` messages ahead of the
slowest group waits until that group commits. A group keeps its offsets when its last
member leaves (a restarted processor resumes there), so it keeps holding producers back.
A topic nobody subscribes to keeps only its newest ``capacity`` messages.

The hot path allocates one ``Record`` per message and touches asyncio only when a
consumer is actually waiting or a producer must wait. The logs and offsets live in
``memory_log``, a group member's fetch and commit in ``memory_subscription``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from engine.bus.base import EventBus, Record
from engine.bus.memory_log import (
    GroupOffsets,
    PartitionLog,
    TopicLog,
    cached_partition,
    partition_for,
)
from engine.bus.memory_subscription import MemorySubscription
from engine.events.codec import DecodeError, EventCodec
from engine.events.envelope import EventEnvelope

log = logging.getLogger("alphapanda.bus")

_BLOCKED_WARN_INTERVAL = 5.0  # seconds between "producer blocked" warnings per topic


class MemoryBus(EventBus):
    """The embedded default bus. Single event loop; not thread-safe by design."""

    backend = "memory"

    def __init__(self, partitions: int = 4, capacity: int = 10_000) -> None:
        if partitions < 1 or capacity < 1:
            raise ValueError("partitions and capacity must be positive")
        self.partitions = partitions
        self.capacity = capacity
        self._topics: dict[str, TopicLog] = {}
        self._codec = EventCodec("msgpack")
        self._closed = False
        self._key_partition: dict[str, int] = {}
        # Subscriptions waiting in ``fetch`` (each with ``_waiting`` set): a publish looks
        # for members to wake only while there is one.
        self._waiting_members = 0

    @property
    def closed(self) -> bool:
        return self._closed

    async def start(self) -> None:
        log.info("bus started", extra={"backend": self.backend, "partitions": self.partitions})

    async def aclose(self) -> None:
        """Refuse further publishes and subscriptions; wake every waiting producer and consumer."""
        if self._closed:
            return
        self._closed = True
        for topic in self._topics.values():
            for part in topic.partitions:
                part.wake_producers()
                for member in part.owners:
                    member._wake_now()
        log.info("bus stopped", extra={"backend": self.backend})

    def topic(self, name: str) -> TopicLog:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = TopicLog(name, self.partitions, self.capacity)
        return topic

    def _partition_of(self, key: str | None) -> int:
        if not key or self.partitions == 1:
            return 0
        index = self._key_partition.get(key)
        if index is None:
            index = cached_partition(self._key_partition, key, self.partitions)
        return index

    async def publish(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> None:
        if key is None:
            key = envelope.key
        if not self.publish_nowait(topic, envelope, key):
            await self._append_waiting(topic, key, envelope, None, None)

    def publish_nowait(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> bool:
        """Append at once unless back-pressure applies (False: nothing appended, await publish).

        ``_try_append`` inlined: every tick and every event goes through here.
        """
        if self._closed:
            raise RuntimeError("bus is closed")
        if key is None:
            key = envelope.key
        state = self._topics.get(topic)
        if state is None:
            state = self.topic(topic)
        index = self._key_partition.get(key) if key else 0
        if index is None:
            index = self._partition_of(key)
        part = state.partitions[index]
        floor = part.floor
        end = part.end
        if floor < 0:  # nobody subscribed: keep the newest ``capacity``
            return self._try_append(state, key, envelope, None, None)
        if end - floor >= state.capacity:
            return False
        part.log.append(Record(state.name, index, end, key, envelope, None, None))
        part.end = end + 1
        if self._waiting_members:  # else nobody to wake: skip the owners
            for member in part.owners:
                if member._waiting:
                    member._wake_now()
        return True

    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        try:
            envelope: EventEnvelope | None = self._codec.decode(raw)
            error = None
        except DecodeError as exc:
            envelope, error = None, str(exc)
        await self._append_waiting(topic, key, envelope, raw, error)

    def _try_append(
        self,
        topic: TopicLog,
        key: str | None,
        envelope: EventEnvelope | None,
        raw: bytes | None,
        error: str | None,
    ) -> bool:
        index = self._key_partition.get(key) if key else 0
        if index is None:
            index = self._partition_of(key)
        part = topic.partitions[index]
        floor = part.floor
        end = part.end
        if floor >= 0 and end - floor >= topic.capacity:
            return False
        part.log.append(Record(topic.name, index, end, key, envelope, raw, error))
        part.end = end + 1
        if floor < 0:
            if end + 1 - part.base > topic.capacity:
                part.drop_before(end + 1 - topic.capacity)
            return True
        for member in part.owners:
            if member._waiting:
                member._wake_now()
        return True

    async def _append_waiting(
        self,
        name: str,
        key: str | None,
        envelope: EventEnvelope | None,
        raw: bytes | None,
        error: str | None,
    ) -> None:
        """Append, waiting while the slowest group is ``capacity`` behind on the partition."""
        while True:
            if self._closed:
                raise RuntimeError("bus is closed")
            topic = self.topic(name)
            if self._try_append(topic, key, envelope, raw, error):
                return
            part = topic.partitions[self._partition_of(key)]
            self._warn_blocked(topic, part)
            if part.space is None:
                part.space = asyncio.Event()
            await part.space.wait()

    def _warn_blocked(self, topic: TopicLog, part: PartitionLog) -> None:
        now = time.monotonic()
        if now - topic.blocked_warned < _BLOCKED_WARN_INTERVAL:
            return
        topic.blocked_warned = now
        slowest = min(topic.groups, key=lambda g: topic.groups[g].committed[part.index])
        log.warning(
            "producer waiting: consumer group is a full partition behind",
            extra={
                "topic": topic.name,
                "partition": part.index,
                "group": slowest,
                "members": len(topic.groups[slowest].members),
                "capacity": topic.capacity,
            },
        )

    async def subscribe(self, topics: Sequence[str], group: str) -> MemorySubscription:
        if self._closed:
            raise RuntimeError("bus is closed")
        sub = MemorySubscription(self, tuple(topics), group)
        for name in sub.topics:
            topic = self.topic(name)
            state = topic.groups.get(group)
            if state is None:
                # A new group starts at the earliest retained message, as Kafka's "earliest".
                state = topic.groups[group] = GroupOffsets([p.base for p in topic.partitions])
                for part in topic.partitions:
                    topic.trim(part)
            state.members.append(sub)
            topic.assign(state)
        log.info(
            "consumer joined: group %s on %s",
            group,
            ", ".join(sub.topics),
            extra={"group": group, "topics": list(sub.topics)},
        )
        return sub

    def _leave(self, sub: MemorySubscription) -> None:
        for name in sub.topics:
            topic = self._topics[name]
            state = topic.groups[sub.group]
            if sub in state.members:
                state.members.remove(sub)
            topic.assign(state)
        log.info(
            "consumer left: group %s",
            sub.group,
            extra={"group": sub.group, "topics": list(sub.topics)},
        )

    def total_lag(self) -> int:
        """Uncommitted messages of every group with members: zero means the pipeline is drained."""
        lag = 0
        for topic in self._topics.values():
            for group in topic.groups.values():
                if group.members:
                    pairs = zip(topic.partitions, group.committed, strict=True)
                    lag += sum(part.end - done for part, done in pairs)
        return lag

    def has_lag(self) -> bool:
        """``total_lag() > 0``, stopping at the first group found behind (a drain poll)."""
        for topic in self._topics.values():
            for group in topic.groups.values():
                if group.members:
                    for part, done in zip(topic.partitions, group.committed, strict=True):
                        if part.end > done:
                            return True
        return False

    def retained(self, topic: str) -> int:
        """Messages the topic still holds over all partitions (bounded by capacity each)."""
        state = self._topics.get(topic)
        return 0 if state is None else sum(p.end - p.base for p in state.partitions)


__all__ = ["MemoryBus", "MemorySubscription", "partition_for"]
