"""Inline bus: the lockstep backtest's bus, on which a driver, not the event loop, runs consumers.

In lockstep every tick is handled by every stage before the next. On the ``MemoryBus``
each stage is a task woken by a publish, so a tick cost an event-loop round trip per
stage, a scan of every owned partition per fetch and a scan of every group per drain
check: about four fifths of a lockstep backtest's time. ``engine.lockstep`` runs those
same stage steps inline instead; this bus gives it the ``MemoryBus``'s delivery,
record for record, so a backtest's results do not move:

- a topic splits into ``partitions`` by key (crc32, as ``memory_log.partition_for``); a group owns
  every partition of every topic it reads, listed topic by topic;
- a fetch takes from the owned partitions in turn, starting one further each call (the
  memory bus's fairness cursor), at most ``max_records``;
- a publish wakes the topic's waiting members in the order they subscribed.

What differs is the cost: each group keeps the records it has not taken in one inbox per
owned partition and the list of inboxes that hold any, so a fetch touches only those;
lag is counted, not scanned. A wake-up goes to ``waker`` when a driver has set one (it
queues the member's step) and otherwise to the member's own fetch, as on the memory bus.
No back-pressure: the driver hands every record over before the next tick. A topic no
group reads keeps its newest ``capacity`` messages, for the first group to subscribe.
One member per group: a backtest runs one of each processor.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence

from engine.bus.base import EventBus, Record, Subscription
from engine.bus.memory_log import cached_partition
from engine.events.codec import DecodeError, EventCodec
from engine.events.envelope import EventEnvelope

log = logging.getLogger("alphapanda.bus")

# Told of a waiting member that a publish reached; True: it took the wake-up (queued the
# member's step), False: the member's own fetch wakes.
Waker = Callable[["InlineSubscription"], bool]


class InlineGroup:
    """One consumer group: an inbox per owned partition (topic by topic), the indices of
    the inboxes that hold records, and where each topic's partitions start."""

    __slots__ = ("base", "inboxes", "member", "nonempty", "topics")

    def __init__(self, topics: tuple[str, ...], partitions: int) -> None:
        self.topics = topics
        self.base = {name: i * partitions for i, name in enumerate(topics)}
        self.inboxes: list[list[Record]] = [[] for _ in range(len(topics) * partitions)]
        self.nonempty: list[int] = []
        self.member: InlineSubscription | None = None


class InlineBus(EventBus):
    """Inboxes per consumer group and partition, filled by publishes. Single event loop."""

    backend = "inline"

    def __init__(self, partitions: int = 4, capacity: int = 10_000) -> None:
        if partitions < 1 or capacity < 1:
            raise ValueError("partitions and capacity must be positive")
        self.partitions = partitions
        self.capacity = capacity
        self.waker: Waker | None = None  # set by a driver while it runs the consumers
        # topic → (group, index of its partition 0) per subscribed group, in order
        self._routes: dict[str, list[tuple[InlineGroup, int]]] = {}
        self._groups: dict[str, InlineGroup] = {}
        self._offsets: dict[str, list[int]] = {}  # next offset per topic and partition
        self._unread: dict[str, deque[Record]] = {}  # topics no group reads: newest only
        self._key_partition: dict[str, int] = {}
        self._codec = EventCodec("msgpack")
        self._closed = False
        # For a driver's fast lane (``engine.lockstep``): how many records were published
        # and how often the groups changed, so it can tell that nothing else happened;
        # and ``hold_topic``, whose next record is kept in ``held`` instead of the inboxes
        # until the driver hands it over itself (or ``release_held`` routes it as usual).
        self.appends = 0
        self.topology = 0
        self.hold_topic: str | None = None
        self.held: Record | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def members(self) -> list[InlineSubscription]:
        """The groups' live members, in the order the groups first subscribed."""
        return [g.member for g in self._groups.values() if g.member is not None]

    async def start(self) -> None:
        log.info("bus started", extra={"backend": self.backend, "partitions": self.partitions})

    async def aclose(self) -> None:
        """Refuse further publishes and subscriptions; wake every waiting consumer."""
        if self._closed:
            return
        self.release_held()
        self.hold_topic = None
        self._closed = True
        self.waker = None
        for member in self.members:
            member.interrupt()
        log.info("bus stopped", extra={"backend": self.backend})

    def partition_of(self, key: str | None) -> int:
        if not key or self.partitions == 1:
            return 0
        index = self._key_partition.get(key)
        if index is None:
            index = cached_partition(self._key_partition, key, self.partitions)
        return index

    async def publish(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> None:
        self.publish_nowait(topic, envelope, key)

    def publish_nowait(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> bool:
        """Append to every subscribed group's inbox and wake its member if it waits;
        always done (no back-pressure)."""
        if self._closed:
            raise RuntimeError("bus is closed")
        self._append(topic, key if key is not None else envelope.key, envelope, None, None)
        return True

    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")
        try:
            envelope: EventEnvelope | None = self._codec.decode(raw)
            error = None
        except DecodeError as exc:
            envelope, error = None, str(exc)
        self._append(topic, key, envelope, raw, error)

    def _append(
        self,
        topic: str,
        key: str | None,
        envelope: EventEnvelope | None,
        raw: bytes | None,
        error: str | None,
    ) -> None:
        index = self._key_partition.get(key) if key else 0
        if index is None:
            index = self.partition_of(key)
        offsets = self._offsets.get(topic)
        if offsets is None:
            offsets = self._offsets[topic] = [0] * self.partitions
        offset = offsets[index]
        offsets[index] = offset + 1
        record = Record(topic, index, offset, key, envelope, raw, error)
        self.appends += 1
        if self.held is not None:  # what was held goes first, in publish order
            self.release_held()
        routes = self._routes.get(topic)
        if routes is None:
            unread = self._unread.get(topic)
            if unread is None:
                unread = self._unread[topic] = deque(maxlen=self.capacity)
            unread.append(record)
            return
        if topic == self.hold_topic:
            self.held = record
            return
        self._route(record, routes)

    def release_held(self) -> None:
        """Route the held record as its publish would have (nothing ran in between)."""
        record = self.held
        if record is not None:
            self.held = None
            self._route(record, self._routes[record.topic])

    def _route(self, record: Record, routes: list[tuple[InlineGroup, int]]) -> None:
        """Into each subscribed group's inbox; wake its member if it waits."""
        index = record.partition
        for group, base in routes:  # a wake-up only queues: as if after all the appends
            at = base + index
            inbox = group.inboxes[at]
            if not inbox:
                group.nonempty.append(at)
            inbox.append(record)
            member = group.member
            if member is not None and member.waiting:
                member.wake()

    async def subscribe(self, topics: Sequence[str], group: str) -> InlineSubscription:
        if self._closed:
            raise RuntimeError("bus is closed")
        state = self._groups.get(group)
        if state is None:
            state = self._groups[group] = InlineGroup(tuple(topics), self.partitions)
            for name in state.topics:
                routes = self._routes.setdefault(name, [])
                routes.append((state, state.base[name]))
                unread = self._unread.pop(name, None)
                for record in unread or ():  # the first group reads what was kept
                    at = state.base[name] + record.partition
                    if not state.inboxes[at]:
                        state.nonempty.append(at)
                    state.inboxes[at].append(record)
        elif state.topics != tuple(topics):
            raise ValueError(f"group {group} reads {state.topics}, not {tuple(topics)}")
        if state.member is not None:
            raise RuntimeError(f"group {group} has a member already (one per group here)")
        self.release_held()
        self.topology += 1
        state.member = sub = InlineSubscription(self, state, group)
        log.info(
            "consumer joined: group %s on %s",
            group,
            ", ".join(state.topics),
            extra={"group": group, "topics": list(state.topics)},
        )
        return sub

    def _leave(self, sub: InlineSubscription) -> None:
        state = self._groups.get(sub.group)
        if state is not None and state.member is sub:
            self.release_held()
            self.topology += 1
            state.member = None
            log.info(
                "consumer left: group %s",
                sub.group,
                extra={"group": sub.group, "topics": list(sub.topics)},
            )

    def routes_of(self, topic: str) -> list[tuple[InlineGroup, int]] | None:
        """The groups that read ``topic`` (with where its partitions start in each)."""
        return self._routes.get(topic)

    def total_lag(self) -> int:
        """Messages waiting for, or held uncommitted by, the groups with a member."""
        return sum(member.lag() for member in self.members)

    def has_lag(self) -> bool:
        if self.held is not None:
            return True
        for group in self._groups.values():
            member = group.member
            if member is not None and (group.nonempty or member.committed < len(member._taken)):
                return True
        return False


class InlineSubscription(Subscription):
    """The one member of a group. ``take`` is the memory bus's fetch order; ``waiting``
    is set while its fetch (or, under a driver, its step) waits for a publish."""

    def __init__(self, bus: InlineBus, state: InlineGroup, group: str) -> None:
        self._bus = bus
        self._state = state
        self.topics = state.topics
        self.group = group
        self.waiting = False
        self.live = True  # False once interrupted or closed: a driver stops stepping it
        self._cursor = 0
        self._taken: list[Record] = []  # the batch in hand
        self.committed = 0  # how much of it is committed (a driver may set it: all done)
        self._inboxes = state.inboxes
        self._nonempty = state.nonempty
        self._wake = asyncio.Event()
        self._closed = False

    def wake(self) -> None:
        """A publish reached this waiting member: its driver's queue, or its own fetch."""
        self.waiting = False
        waker = self._bus.waker
        if waker is None or not waker(self):
            self._wake.set()

    def take(self, max_records: int) -> list[Record]:
        """Up to ``max_records``, partition by partition from the owned one after last
        time's start (as ``MemorySubscription._take``); in hand until committed."""
        inboxes = self._inboxes
        cursor = self._cursor  # the start is ``cursor % count``, needed for two or more
        self._cursor = cursor + 1
        nonempty = self._nonempty
        if len(nonempty) == 1 and len(inboxes[nonempty[0]]) <= max_records:
            at = nonempty.pop()
            out = inboxes[at]
            inboxes[at] = []
        elif not nonempty:
            out = []
        else:
            out = []
            count = len(inboxes)
            start = cursor % count
            nonempty.sort(key=lambda at: (at - start) % count)
            for at in nonempty:
                inbox = inboxes[at]
                room = max_records - len(out)
                out += inbox[:room]
                del inbox[:room]
                if len(out) >= max_records:
                    break
            nonempty[:] = [at for at in nonempty if inboxes[at]]
        self._taken = out
        self.committed = 0
        return out

    def put(self, record: Record) -> None:
        """In front of this member's inbox of its partition, waking nobody: a record a
        driver's lane held, handed over as its publish would have left it."""
        state = self._state
        at = state.base[record.topic] + record.partition
        inbox = state.inboxes[at]
        if not inbox:
            state.nonempty.append(at)
        inbox.insert(0, record)  # published before anything that came meanwhile

    def commit_now(self, count: int) -> None:
        """The first ``count`` records of the batch in hand are handled (no await)."""
        if count > self.committed:
            self.committed = count

    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        """As ``MemorySubscription.fetch``: what is ready, else wait for a publish (unless
        a driver takes the wake-up), ``interrupt``, ``aclose`` or ``timeout``."""
        if self._closed:
            return []
        records = self.take(max_records)
        if records or timeout <= 0:
            return records
        self._wake.clear()
        self.waiting = True
        try:
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            return []
        finally:
            self.waiting = False
        return [] if self._closed else self.take(max_records)

    def interrupt(self) -> None:
        self.live = self.waiting = False
        self._wake.set()

    def wake_own(self) -> None:
        """Resume this member's own parked fetch (a driver hands its step back)."""
        self.waiting = False
        self._wake.set()

    async def commit(self, records: Sequence[Record]) -> None:
        """The batch in hand is committed up to the last of ``records``."""
        if not records:
            return
        taken = self._taken
        count = len(records)
        last = records[-1]
        if count <= len(taken) and last is taken[count - 1]:
            self.commit_now(count)
            return
        for index, record in enumerate(taken):
            if record is last:
                self.commit_now(index + 1)

    async def rewind(self) -> None:
        """Put what is in hand and uncommitted back in front of its partitions' inboxes."""
        rest = self._taken[self.committed :]
        self._taken, self.committed = [], 0
        for record in reversed(rest):
            self.put(record)

    def lag(self) -> int:
        state = self._state
        waiting = sum(len(state.inboxes[at]) for at in state.nonempty)
        return len(self._taken) - self.committed + waiting

    async def aclose(self) -> None:
        """Leave the group; what is uncommitted goes back to the inboxes for a later member."""
        if not self._closed:
            await self.rewind()
            self._closed = True
            self.live = self.waiting = False
            self._wake.set()
            self._bus._leave(self)


__all__ = ["InlineBus", "InlineSubscription"]
