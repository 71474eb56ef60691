"""In-process bus: bounded partition logs with consumer-group offsets and back-pressure.

Each topic has ``partitions`` logs; a key always lands on the same partition, so order
per key holds. A log keeps a message until every group subscribed to the topic has
committed it; a producer that would exceed ``capacity`` uncommitted messages waits.
A topic nobody subscribes to keeps only its newest ``capacity`` messages.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import deque
from collections.abc import Sequence

from engine.bus.base import EventBus, Record, Subscription
from engine.events.codec import DecodeError, EventCodec
from engine.events.envelope import EventEnvelope

log = logging.getLogger("alphapanda.bus")


def partition_for(key: str | None, partitions: int) -> int:
    """Stable partition for a key (crc32: the same in every process, unlike ``hash``)."""
    if not key or partitions == 1:
        return 0
    return zlib.crc32(key.encode()) % partitions


class _Partition:
    __slots__ = ("base", "index", "log", "space")

    def __init__(self, index: int) -> None:
        self.index = index
        self.log: deque[Record] = deque()
        self.base = 0  # offset of log[0]
        self.space = asyncio.Event()
        self.space.set()

    @property
    def end(self) -> int:
        return self.base + len(self.log)


class _Group:
    """Committed offsets and partition assignment of one consumer group on one topic."""

    __slots__ = ("committed", "members")

    def __init__(self, partitions: int) -> None:
        self.committed = [0] * partitions
        self.members: list[MemorySubscription] = []


class _Topic:
    __slots__ = ("capacity", "groups", "name", "partitions")

    def __init__(self, name: str, partitions: int, capacity: int) -> None:
        self.name = name
        self.capacity = capacity
        self.partitions = [_Partition(i) for i in range(partitions)]
        self.groups: dict[str, _Group] = {}

    def floor(self, index: int) -> int | None:
        """Lowest offset any group still needs on a partition; None with no groups."""
        if not self.groups:
            return None
        return min(g.committed[index] for g in self.groups.values())

    def trim(self, part: _Partition) -> None:
        floor = self.floor(part.index)
        if floor is None:
            floor = part.end - self.capacity
        log_ = part.log
        while log_ and part.base < floor:
            log_.popleft()
            part.base += 1
        if part.end - (self.floor(part.index) or part.base) < self.capacity:
            part.space.set()

    def assign(self, group: _Group) -> None:
        """Spread partitions round-robin over the group's live members."""
        for member in group.members:
            member._assigned[self.name] = []
        if not group.members:
            return
        for part in self.partitions:
            member = group.members[part.index % len(group.members)]
            member._assigned[self.name].append(part.index)
            member._positions[(self.name, part.index)] = group.committed[part.index]


class MemoryBus(EventBus):
    """The embedded default bus. Single event loop; not thread-safe by design."""

    backend = "memory"

    def __init__(self, partitions: int = 4, capacity: int = 10_000) -> None:
        if partitions < 1 or capacity < 1:
            raise ValueError("partitions and capacity must be positive")
        self.partitions = partitions
        self.capacity = capacity
        self._topics: dict[str, _Topic] = {}
        self._codec = EventCodec("msgpack")
        self._closed = False

    async def start(self) -> None:
        log.info("bus started", extra={"backend": self.backend, "partitions": self.partitions})

    async def aclose(self) -> None:
        self._closed = True
        for topic in self._topics.values():
            for group in topic.groups.values():
                for member in group.members:
                    member._wake.set()
        log.info("bus stopped", extra={"backend": self.backend})

    def topic(self, name: str) -> _Topic:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = _Topic(name, self.partitions, self.capacity)
        return topic

    async def publish(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> None:
        key = envelope.key if key is None else key
        await self._append(topic, key, envelope, None, None)

    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        try:
            envelope: EventEnvelope | None = self._codec.decode(raw)
            error = None
        except DecodeError as exc:
            envelope, error = None, str(exc)
        await self._append(topic, key, envelope, raw, error)

    async def _append(
        self,
        name: str,
        key: str | None,
        envelope: EventEnvelope | None,
        raw: bytes | None,
        error: str | None,
    ) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")
        topic = self.topic(name)
        part = topic.partitions[partition_for(key, self.partitions)]
        if topic.groups:
            while part.end - (topic.floor(part.index) or 0) >= topic.capacity:
                part.space.clear()
                await part.space.wait()
        part.log.append(Record(name, part.index, part.end, key, envelope, raw, error))
        if not topic.groups:
            topic.trim(part)
            return
        for group in topic.groups.values():
            for member in group.members:
                member._wake.set()

    async def subscribe(self, topics: Sequence[str], group: str) -> MemorySubscription:
        sub = MemorySubscription(self, tuple(topics), group)
        for name in topics:
            topic = self.topic(name)
            state = topic.groups.get(group)
            if state is None:
                state = topic.groups[group] = _Group(self.partitions)
                # A new group starts at the earliest retained message, as Kafka's "earliest".
                state.committed = [p.base for p in topic.partitions]
            state.members.append(sub)
            topic.assign(state)
        sub._wake.set()
        return sub

    def _leave(self, sub: MemorySubscription) -> None:
        for name in sub.topics:
            topic = self._topics[name]
            state = topic.groups[sub.group]
            if sub in state.members:
                state.members.remove(sub)
            topic.assign(state)
            for member in state.members:
                member._wake.set()

    def total_lag(self) -> int:
        """Uncommitted messages over every group: zero means the pipeline is drained."""
        lag = 0
        for topic in self._topics.values():
            for group in topic.groups.values():
                if group.members:
                    pairs = zip(topic.partitions, group.committed, strict=True)
                    lag += sum(part.end - done for part, done in pairs)
        return lag


class MemorySubscription(Subscription):
    def __init__(self, bus: MemoryBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._assigned: dict[str, list[int]] = {}
        self._positions: dict[tuple[str, int], int] = {}
        self._wake = asyncio.Event()
        self._closed = False

    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        records = self._take(max_records)
        if records or self._closed:
            return records
        self._wake.clear()
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            return []
        return self._take(max_records)

    def _take(self, max_records: int) -> list[Record]:
        out: list[Record] = []
        topics = self._bus._topics
        for name, indices in self._assigned.items():
            topic = topics[name]
            for index in indices:
                part = topic.partitions[index]
                pos = self._positions[(name, index)]
                end = part.end
                if pos >= end:
                    continue
                start = pos - part.base
                stop = min(end, pos + max_records - len(out)) - part.base
                for i in range(start, stop):
                    out.append(part.log[i])
                self._positions[(name, index)] = part.base + stop
                if len(out) >= max_records:
                    return out
        return out

    async def commit(self, records: Sequence[Record]) -> None:
        latest: dict[tuple[str, int], int] = {}
        for rec in records:
            latest[(rec.topic, rec.partition)] = rec.offset + 1
        topics = self._bus._topics
        for (name, index), offset in latest.items():
            topic = topics[name]
            group = topic.groups[self.group]
            if offset > group.committed[index]:
                group.committed[index] = offset
                topic.trim(topic.partitions[index])

    async def rewind(self) -> None:
        for name, indices in self._assigned.items():
            group = self._bus._topics[name].groups[self.group]
            for index in indices:
                self._positions[(name, index)] = group.committed[index]

    def lag(self) -> int:
        lag = 0
        for name, indices in self._assigned.items():
            topic = self._bus._topics[name]
            group = topic.groups[self.group]
            for index in indices:
                lag += topic.partitions[index].end - group.committed[index]
        return lag

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._bus._leave(self)
