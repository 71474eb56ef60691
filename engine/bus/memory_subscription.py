"""A member of a memory-bus consumer group: fetches its partitions' records, commits them.

Fetching and committing touch plain lists and integers; asyncio only when the member
must wait for a publish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from operator import is_
from typing import TYPE_CHECKING

from engine.bus.base import Record, Subscription
from engine.bus.memory_log import GroupOffsets, PartitionLog, TopicLog

if TYPE_CHECKING:
    from engine.bus.memory import MemoryBus


class MemorySubscription(Subscription):
    """A member of a consumer group; reads the partitions the group assigned to it."""

    def __init__(self, bus: MemoryBus, topics: tuple[str, ...], group: str) -> None:
        self._bus = bus
        self.topics = topics
        self.group = group
        self._assigned: dict[str, list[int]] = {name: [] for name in topics}
        self._positions: dict[tuple[str, int], int] = {}
        self._owned: list[tuple[TopicLog, PartitionLog, GroupOffsets]] = []
        self._taken: list[Record] = []  # the last batch fetched, for a cheap commit
        self._runs: list[tuple[int, TopicLog, PartitionLog]] = []  # its runs: end index, where
        self._cursor = 0
        self._wake = asyncio.Event()
        self._waiting = False
        self._closed = False

    # -- assignment (called by the bus) -----------------------------------------------
    def _acquire(self, topic: TopicLog, part: PartitionLog, group: GroupOffsets) -> None:
        self._assigned.setdefault(topic.name, []).append(part.index)
        self._positions[(topic.name, part.index)] = group.committed[part.index]
        self._owned.append((topic, part, group))

    def _release(self, topic: TopicLog, part: PartitionLog) -> None:
        indices = self._assigned.get(topic.name, [])
        if part.index in indices:
            indices.remove(part.index)
        self._positions.pop((topic.name, part.index), None)
        self._owned = [o for o in self._owned if o[1] is not part]

    def interrupt(self) -> None:
        self._wake_now()

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
        runs: list[tuple[int, TopicLog, PartitionLog]] = []
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

    def _advance(self, topic: TopicLog, part: PartitionLog, offset: int) -> None:
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
