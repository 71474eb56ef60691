"""The event bus port: one protocol, two backends (``memory`` embedded, ``kafka`` clustered).

Semantics follow Kafka so that a processor behaves the same on both: topics split into
partitions by key, consumer groups share partitions, a group resumes from its last
committed offset, and nothing is committed until the handler has succeeded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

import msgspec

from engine.events.envelope import EventEnvelope


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


class EventBus(ABC):
    """Publish envelopes to topics and subscribe consumer groups to them."""

    backend: str = "abstract"

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

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        """Create topics where the backend needs it (Kafka); the memory bus creates on use."""

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
