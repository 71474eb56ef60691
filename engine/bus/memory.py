"""In-process bus: bounded partition logs with consumer-group offsets and back-pressure.

Each topic has ``partitions`` logs; a key always lands on the same partition, so order
per key holds. A log keeps a message until every group subscribed to the topic has
committed it; a producer that would put a partition ``capacity`` messages ahead of the
slowest group waits until that group commits. A group keeps its offsets when its last
member leaves (a restarted processor resumes there), so it keeps holding producers back.
A topic nobody subscribes to keeps only its newest ``capacity`` messages.

The hot path allocates one ``Record`` per message and touches asyncio only when a
consumer is actually waiting or a producer must wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Sequence
from operator import is_

from engine.bus.base import EventBus, Record, Subscription
from engine.events.codec import DecodeError, EventCodec
from engine.events.envelope import EventEnvelope
from engine.memo import remember

log = logging.getLogger("alphapanda.bus")

_KEY_CACHE_LIMIT = 65_536
# Trimmed slots kept at the head of a log before it is compacted: small, so committed
# records are freed while still warm in the CPU cache (still amortised O(1)).
_COMPACT_AT = 1_024
_BLOCKED_WARN_INTERVAL = 5.0  # seconds between "producer blocked" warnings per topic


def partition_for(key: str | None, partitions: int) -> int:
    """Stable partition for a key (crc32: the same in every process, unlike ``hash``)."""
    if not key or partitions == 1:
        return 0
    return zlib.crc32(key.encode()) % partitions


class _Partition:
    """One append-only log. ``log[head:]`` holds offsets ``base`` … ``end - 1``."""

    __slots__ = ("base", "end", "floor", "head", "index", "log", "owners", "space")

    def __init__(self, index: int) -> None:
        self.index = index
        self.log: list[Record] = []
        self.head = 0
        self.base = 0
        self.end = 0
        self.floor = -1  # lowest committed offset over the topic's groups; -1: no groups
        self.owners: list[MemorySubscription] = []  # one member per group, for wake-ups
        self.space: asyncio.Event | None = None  # created only when a producer must wait

    def drop_before(self, offset: int) -> None:
        """Forget messages below ``offset`` (amortised O(1): compacts in chunks)."""
        if offset <= self.base:
            return
        offset = min(offset, self.end)
        self.head += offset - self.base
        self.base = offset
        if self.head >= _COMPACT_AT and self.head * 2 >= len(self.log):
            del self.log[: self.head]
            self.head = 0

    def wake_producers(self) -> None:
        if self.space is not None:
            self.space.set()
            self.space = None


class _Group:
    """Committed offsets and partition owners of one consumer group on one topic."""

    __slots__ = ("committed", "members", "owners")

    def __init__(self, committed: list[int]) -> None:
        self.committed = committed
        self.members: list[MemorySubscription] = []
        self.owners: list[MemorySubscription | None] = [None] * len(committed)


class _Topic:
    __slots__ = ("blocked_warned", "capacity", "groups", "name", "partitions")

    def __init__(self, name: str, partitions: int, capacity: int) -> None:
        self.name = name
        self.capacity = capacity
        self.partitions = [_Partition(i) for i in range(partitions)]
        self.groups: dict[str, _Group] = {}
        self.blocked_warned = 0.0

    def floor(self, index: int) -> int | None:
        """Lowest offset any group still needs on a partition; None with no groups."""
        if not self.groups:
            return None
        return min(g.committed[index] for g in self.groups.values())

    def trim(self, part: _Partition) -> None:
        """Drop what every group has committed (or, with no groups, all but the newest)."""
        if self.groups:
            index = part.index
            part.floor = floor = min([g.committed[index] for g in self.groups.values()])
            part.drop_before(floor)
            if part.end - floor < self.capacity and part.space is not None:
                part.wake_producers()
        else:
            part.floor = -1
            part.drop_before(part.end - self.capacity)
            part.wake_producers()

    def assign(self, group: _Group) -> None:
        """Spread partitions round-robin over live members; only moved partitions rewind."""
        members = group.members
        for part in self.partitions:
            old = group.owners[part.index]
            new = members[part.index % len(members)] if members else None
            if new is old:
                continue
            if old is not None:
                old._release(self, part)
                if old in part.owners:
                    part.owners.remove(old)
            group.owners[part.index] = new
            if new is not None:
                new._acquire(self, part, group)
                part.owners.append(new)
                new._wake_now()


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

    def topic(self, name: str) -> _Topic:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = _Topic(name, self.partitions, self.capacity)
        return topic

    def _partition_of(self, key: str | None) -> int:
        if not key or self.partitions == 1:
            return 0
        index = self._key_partition.get(key)
        if index is None:
            index = zlib.crc32(key.encode()) % self.partitions
            remember(self._key_partition, key, index, _KEY_CACHE_LIMIT)
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
        topic: _Topic,
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

    def _warn_blocked(self, topic: _Topic, part: _Partition) -> None:
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
                state = topic.groups[group] = _Group([p.base for p in topic.partitions])
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


class MemorySubscription(Subscription):
    """A member of a consumer group; reads the partitions the group assigned to it."""

    def __init__(self, bus: MemoryBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._assigned: dict[str, list[int]] = {name: [] for name in topics}
        self._positions: dict[tuple[str, int], int] = {}
        self._owned: list[tuple[_Topic, _Partition, _Group]] = []
        self._taken: list[Record] = []  # the last batch fetched, for a cheap commit
        self._runs: list[tuple[int, _Topic, _Partition]] = []  # its runs: end index, where
        self._cursor = 0
        self._wake = asyncio.Event()
        self._waiting = False
        self._closed = False

    # -- assignment (called by the bus) -----------------------------------------------
    def _acquire(self, topic: _Topic, part: _Partition, group: _Group) -> None:
        self._assigned.setdefault(topic.name, []).append(part.index)
        self._positions[(topic.name, part.index)] = group.committed[part.index]
        self._owned.append((topic, part, group))

    def _release(self, topic: _Topic, part: _Partition) -> None:
        indices = self._assigned.get(topic.name, [])
        if part.index in indices:
            indices.remove(part.index)
        self._positions.pop((topic.name, part.index), None)
        self._owned = [o for o in self._owned if o[1] is not part]

    def _wake_now(self) -> None:
        self._stop_waiting()  # one wake-up is enough until the next wait
        self._wake.set()

    def _stop_waiting(self) -> None:
        if self._waiting:
            self._waiting = False
            self._bus._waiting_members -= 1

    # -- consuming ------------------------------------------------------------------
    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        """Records in offset order per partition; waits up to ``timeout`` when none are ready."""
        if self._closed:
            return []
        records = self._take(max_records)
        if records or timeout <= 0:
            return records
        self._wake.clear()
        if not self._waiting:
            self._waiting = True
            self._bus._waiting_members += 1
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            return []
        finally:
            self._stop_waiting()
        return [] if self._closed else self._take(max_records)

    def _take(self, max_records: int) -> list[Record]:
        """Round-robin over owned partitions, starting one further each call for fairness.

        Remembers the batch and where each partition's run in it ends, so committing the
        batch (or a prefix of it) costs one step per run instead of one per record.
        """
        out: list[Record] = []
        runs: list[tuple[int, _Topic, _Partition]] = []
        self._taken, self._runs = out, runs
        owned = self._owned
        count = len(owned)
        if not count:
            return out
        positions = self._positions
        start = self._cursor % count
        self._cursor = start + 1
        for i in range(count):
            topic, part, _ = owned[(start + i) % count]
            if part.end <= part.base:
                continue  # nothing retained: nothing for anyone
            slot = (topic.name, part.index)
            pos = positions[slot]
            if pos >= part.end:
                continue
            pos = max(pos, part.base)  # trimmed below us (no-group retention): skip ahead
            room = max_records - len(out)
            first = part.head + pos - part.base
            chunk = part.log[first : first + room]
            out.extend(chunk)
            runs.append((len(out), topic, part))
            positions[slot] = pos + len(chunk)
            if len(out) >= max_records:
                break
        return out

    async def commit(self, records: Sequence[Record]) -> None:
        """Advance the group's offsets past these records; never moves an offset back."""
        if not records:
            return
        taken = self._taken
        count = len(records)
        if count <= len(taken) and all(map(is_, records, taken)):
            # The last fetched batch or a prefix of it (what a processor commits; checked
            # record by record, in C): each partition's run in it ends at a known index,
            # so only the last record of each run is looked at.
            for end, topic, part in self._runs:
                if end >= count:
                    self._advance(topic, part, records[count - 1].offset + 1)
                    return
                self._advance(topic, part, records[end - 1].offset + 1)
            return
        latest: dict[tuple[str, int], int] = {}
        for rec in records:
            slot = (rec.topic, rec.partition)
            if rec.offset + 1 > latest.get(slot, -1):
                latest[slot] = rec.offset + 1
        topics = self._bus._topics
        for (name, index), offset in latest.items():
            topic = topics[name]
            self._advance(topic, topic.partitions[index], offset)

    def _advance(self, topic: _Topic, part: _Partition, offset: int) -> None:
        """Move this group's committed offset on ``part`` up to ``offset`` (never back)."""
        group = topic.groups.get(self.group)
        if group is None:
            return
        index = part.index
        offset = min(offset, part.end)
        committed = group.committed
        old = committed[index]
        if offset > old:
            committed[index] = offset
            if old <= part.floor or part.floor < 0:  # this group was (one of) the slowest
                topic.trim(part)

    async def rewind(self) -> None:
        for topic, part, group in self._owned:
            self._positions[(topic.name, part.index)] = group.committed[part.index]

    def lag(self) -> int:
        return sum(part.end - group.committed[part.index] for _, part, group in self._owned)

    async def aclose(self) -> None:
        """Leave the group: its partitions (and their uncommitted records) go to the others."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._bus._leave(self)
