"""The memory bus's storage: per-topic partition logs and each group's committed offsets.

A log keeps a message until every group subscribed to the topic has committed it; a
topic nobody subscribes to keeps only its newest ``capacity`` messages. Partitions are
spread round-robin over a group's live members.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import TYPE_CHECKING

from engine.bus.base import Record
from engine.memo import remember

if TYPE_CHECKING:
    from engine.bus.memory_subscription import MemorySubscription

# Trimmed slots kept at the head of a log before it is compacted: small, so committed
# records are freed while still warm in the CPU cache (still amortised O(1)).
_COMPACT_AT = 1_024


KEY_CACHE_LIMIT = 65_536  # keys whose partition a bus remembers


def cached_partition(cache: dict[str, int], key: str, partitions: int) -> int:
    """``partition_for`` of a key the bus's cache missed, remembered (bounded) for next time.

    Both in-process buses (memory and inline) route through it, so a key lands on the
    same partition whichever one a run uses.
    """
    index = partition_for(key, partitions)
    remember(cache, key, index, KEY_CACHE_LIMIT)
    return index


def partition_for(key: str | None, partitions: int) -> int:
    """Stable partition for a key (crc32: the same in every process, unlike ``hash``)."""
    if not key or partitions == 1:
        return 0
    return zlib.crc32(key.encode()) % partitions


class PartitionLog:
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


class GroupOffsets:
    """Committed offsets and partition owners of one consumer group on one topic."""

    __slots__ = ("committed", "members", "owners")

    def __init__(self, committed: list[int]) -> None:
        self.committed = committed
        self.members: list[MemorySubscription] = []
        self.owners: list[MemorySubscription | None] = [None] * len(committed)


class TopicLog:
    __slots__ = ("blocked_warned", "capacity", "groups", "name", "partitions")

    def __init__(self, name: str, partitions: int, capacity: int) -> None:
        self.name = name
        self.capacity = capacity
        self.partitions = [PartitionLog(i) for i in range(partitions)]
        self.groups: dict[str, GroupOffsets] = {}
        self.blocked_warned = 0.0

    def floor(self, index: int) -> int | None:
        """Lowest offset any group still needs on a partition; None with no groups."""
        if not self.groups:
            return None
        return min(g.committed[index] for g in self.groups.values())

    def trim(self, part: PartitionLog) -> None:
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

    def assign(self, group: GroupOffsets) -> None:
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
