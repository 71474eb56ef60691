"""The event bus port: one protocol, two backends (``memory`` embedded, ``kafka`` clustered).

Semantics follow Kafka so that a processor behaves the same on both: topics split into
partitions by key, consumer groups share partitions, a group resumes from its last
committed offset, and nothing is committed until the handler has succeeded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

import msgspec

from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth


class Record(msgspec.Struct, gc=False):
    """One consumed message. ``envelope`` is None when decoding failed; ``error`` says why.

    A struct untracked by the cyclic GC (it only points at immutable values): the memory
    bus retains up to ``capacity`` of these per partition, and tracking them cost more
    per message than the rest of the append.
    """

    topic: str
    partition: int
    offset: int
    key: str | None
    envelope: EventEnvelope | None
    raw: bytes | None = None
    error: str | None = None


@dataclass(slots=True)
class SubscriptionStats:
    lag: int = 0
    committed: dict[tuple[str, int], int] = field(default_factory=dict)


class Subscription(ABC):
    """A member of a consumer group reading some topics."""

    topics: tuple[str, ...]
    group: str

    @abstractmethod
    async def fetch(self, max_records: int = 256, timeout: float = 0.5) -> list[Record]:
        """Next records from the assigned partitions, in order per partition; [] on timeout.

        After ``aclose()`` it returns [] at once.
        """

    def interrupt(self) -> None:
        """End a pending ``fetch`` now (it returns what is ready, or []): a stopping
        consumer need not sit out its poll timeout. A transport that cannot is left to
        time out."""

    @abstractmethod
    async def commit(self, records: Sequence[Record]) -> None:
        """Mark these records (and everything before them per partition) as done."""

    @abstractmethod
    async def rewind(self) -> None:
        """Go back to the last committed offsets (after a failure, to redeliver)."""

    @abstractmethod
    def lag(self) -> int:
        """Messages published to the assigned partitions and not yet committed."""

    def uncommitted(self) -> int:
        """Partitions with handled records whose commit has not been made yet (a bus that
        commits later, like Kafka's committer, overrides this)."""
        return 0

    async def caught_up(self, since: float | None = None) -> bool:
        """True when every message published to the assigned partitions is handled (a
        stopping processor drains until then, so a graceful stop leaves no work behind).
        ``since`` (``time.time()``): a bus that learns the partitions' ends from fetch
        responses counts only those after it; None: after the first ask."""
        return self.lag() == 0

    @abstractmethod
    async def aclose(self) -> None:
        """Leave the group; uncommitted records are redelivered to whoever takes over."""


class SupervisedService(Protocol):
    """What ``EventBus.singleton`` runs alone: a supervised service (every
    ``engine.processing.Service`` is one; restated so the port needs nothing above it)."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    def health(self) -> ComponentHealth: ...


class EventBus(ABC):
    """Publish envelopes to topics and subscribe consumer groups to them.

    Besides publishing and subscribing, a caller may ask any bus how durable a publish
    is, to flush, how far its consumers are behind and to run a service once per
    cluster; the defaults answer for a bus that lives in this one process.
    """

    backend: str = "abstract"
    # True when a publish that returned is as safe as it will get (in-process); False
    # when outputs are safe only once acknowledged (Kafka): a processor that crashed then
    # forgets its in-memory dedup window, as its lost outputs come back to be redone.
    durable_on_publish: bool = True
    # True when other processes may consume the same topics (Kafka): what must run once
    # per cluster then runs under a lease (``singleton``).
    shared_by_processes: bool = False

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def aclose(self) -> None: ...

    @abstractmethod
    async def publish(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> None:
        """Append one envelope; waits (back-pressure) when consumers are too far behind."""

    def publish_nowait(self, topic: str, envelope: EventEnvelope, key: str | None = None) -> bool:
        """Append without awaiting when the backend can; False: nothing appended, use publish.

        A fast path for the in-process bus (no back-pressure pending); backends that must
        do I/O keep this default and always go through ``publish``.
        """
        return False

    @abstractmethod
    async def publish_raw(self, topic: str, raw: bytes, key: str | None = None) -> None:
        """Append bytes as they are (used by tests and tools to inject malformed input)."""

    @abstractmethod
    async def subscribe(self, topics: Sequence[str], group: str) -> Subscription: ...

    async def subscribe_from_end(
        self, topics: Sequence[str], group: str, from_end: Collection[str]
    ) -> Subscription:
        """``subscribe``, but where ``group`` has committed nothing yet on a partition of a
        ``from_end`` topic it starts at the partition's end (Kafka's "latest"), not its
        earliest message. For a reader whose state of those topics comes from elsewhere (a
        console seeded from the read-model cache): replaying a day of ticks would show an
        old clock for a minute. An in-process bus keeps only what its consumers still
        need, so by default this is ``subscribe``."""
        return await self.subscribe(topics, group)

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create topics where the backend needs it (Kafka); the memory bus creates on use."""

    async def flush(self) -> None:
        """Wait until everything published so far is durable; raises when a message was
        lost (Kafka: ``OutputLostError``). In-process: nothing to wait for."""

    def is_outage(self, exc: BaseException) -> bool:
        """True when a service failed because the cluster cannot be reached (the supervisor
        waits that out instead of counting a crash). In-process: never."""
        return False

    def total_lag(self) -> int:
        """Messages published and not yet committed by the consumer groups this process
        reads (the health panel's bus row); 0 when the bus cannot tell."""
        return 0

    def has_lag(self) -> bool:
        """True while a message waits for a consumer of this process (``Pipeline.drain``).

        False on a bus other processes keep publishing to (Kafka): there it may never reach
        zero, and each stopping processor drains its own input (``Subscription.caught_up``).
        """
        return False

    def singleton(
        self,
        service: SupervisedService,
        lease: str,
        on_active: Callable[[], Awaitable[None]] | None = None,
    ) -> SupervisedService:
        """``service`` made to run in one process of the cluster at a time, holding
        ``lease``; ``on_active`` is awaited each time this process takes the lease, before
        ``service`` starts. A bus no other process shares returns ``service`` as it is
        (and never awaits ``on_active``: the caller runs its hook itself)."""
        return service

    async def __aenter__(self) -> EventBus:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
