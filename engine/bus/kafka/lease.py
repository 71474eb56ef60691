"""Singletons on a Kafka cluster: one process at a time runs them, the others stand by.

A lease is a consumer group on a one-partition topic: the group hands the partition to
exactly one member. ``LeasedService`` runs a supervised service only while this process
holds its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from aiokafka.errors import KafkaConnectionError, KafkaError

from engine.bus.kafka.group import Rebalance, cancelling, stop_consumer
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus

if TYPE_CHECKING:
    from engine.bus.kafka.bus import KafkaBus

log = logging.getLogger("alphapanda.bus")

LEASE_TOPIC = "alphapanda.leases"


class KafkaLease:
    """Leader election through a consumer group on a one-partition topic.

    Every process that may run a singleton joins group ``lease.{name}``; the group gives
    the one partition to exactly one member, which holds the lease until it leaves, dies
    (after ``session_timeout_ms``) or loses the cluster. ``on_lost`` is awaited before the
    group rebalances, so a graceful hand-over stops the old holder before the new one starts.

    The assignment is sticky: a process joining the group (a standby starting) leaves the
    lease with its holder. Round-robin would move it to whichever member id sorts first,
    and a live execution that moves halts and reconciles, so starting a standby would halt
    trading about half the time. Round-robin stays offered for members that lack sticky.
    """

    def __init__(self, bus: KafkaBus, name: str) -> None:
        self.bus = bus
        self.name = name
        self.group = f"lease.{name}"
        self.held = asyncio.Event()
        self.lost = asyncio.Event()
        self.on_lost: Callable[[], Awaitable[None]] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bus.ensure_topics([LEASE_TOPIC], partitions=1)
        consumer = AIOKafkaConsumer(
            group_id=self.group,
            enable_auto_commit=False,
            partition_assignment_strategy=(
                _sticky_assignor(self.name),
                RoundRobinPartitionAssignor,
            ),
            **self.bus.connection.member_kwargs(),
        )
        try:
            await consumer.start()
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await stop_consumer(consumer)
            raise self.bus.connection.unreachable(exc) from exc
        consumer.subscribe([LEASE_TOPIC], listener=Rebalance(self))
        self._consumer = consumer
        # The group only keeps a member that polls; the topic stays empty, so this is cheap.
        self._poller = asyncio.create_task(self._poll(), name=f"lease:{self.name}")

    async def _poll(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                await self._consumer.getmany(timeout_ms=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the cluster dropped: aiokafka reconnects by itself
                log.warning("lease poll failed", extra={"lease": self.name, "error": str(exc)})
                await asyncio.sleep(1.0)

    async def _assigned(self, partitions: Collection[TopicPartition]) -> None:
        if any(tp.topic == LEASE_TOPIC for tp in partitions):
            self.lost.clear()
            self.held.set()
            log.warning("lease %s acquired", self.name, extra={"lease": self.name})

    async def _revoked(self, partitions: Collection[TopicPartition]) -> None:
        if not self.held.is_set():
            return
        self.held.clear()
        self.lost.set()
        log.warning("lease %s released", self.name, extra={"lease": self.name})
        if self.on_lost is not None:
            await self.on_lost()

    async def aclose(self) -> None:
        """Leave the group: a standby takes over at once (no session timeout to wait)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._consumer is not None:
            self.on_lost = None
            await stop_consumer(self._consumer)
            self._consumer = None
        self.held.clear()


def _sticky_assignor(lease: str) -> type[StickyPartitionAssignor]:
    """aiokafka's sticky assignor keeps what it holds in class attributes: one subclass per
    lease, or the leases of one process (feed, risk, execution…) would share that state."""
    return type(f"StickyLeaseAssignor[{lease}]", (StickyPartitionAssignor,), {})


class LeasedService:
    """Runs ``inner`` (a supervised service) only while this process holds its lease.

    For what must be one per cluster: the feed (two would publish every tick twice), risk
    (limits are totals over all orders), execution (the paper venue and the kill switch's
    cancel-all live in one process) and the portfolio (totals and P&L need every fill).
    The other processes wait as hot standbys; the holder's death hands the lease over
    within the session timeout and the new holder rebuilds its state from storage.

    ``on_active`` is awaited each time this process takes the lease, before ``inner``
    starts: live execution halts there, so a standby that starts halts nothing while a
    new holder halts before it can send an order. If it fails, ``inner`` does not start:
    the lease is given up and the supervisor retries with backoff. A rebalance that hands
    the lease straight back (same member, next generation: nobody else held it) is not a
    take-over, so a process joining the group does not make the holder run it again.
    """

    def __init__(
        self,
        inner: Any,
        bus: KafkaBus,
        lease_name: str,
        stop_timeout: float = 10.0,
        on_active: Callable[[], Awaitable[None]] | None = None,
    ):
        self.inner = inner
        self.name = inner.name
        self.lease_name = lease_name
        self._bus = bus
        self._stop_timeout = stop_timeout
        self._on_active = on_active
        self._held_as: tuple[str, int] | None = None  # (member id, generation) last held
        self._stopping = asyncio.Event()
        self._inner_task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._inner_task is not None and not self._inner_task.done()

    async def run(self) -> None:
        self._stopping.clear()
        self._held_as = None
        lease = KafkaLease(self._bus, self.lease_name)
        lease.on_lost = self._abandon
        await lease.start()
        try:
            while not self._stopping.is_set():
                if not await self._first(lease.held.wait()):
                    break
                if not await self._activate(lease):
                    continue
                self._inner_task = asyncio.create_task(self.inner.run(), name=f"svc:{self.name}")
                log.warning("singleton %s active here", self.name, extra={"service": self.name})
                task = self._inner_task
                await self._first(lease.lost.wait(), task)
                if task.done() and not lease.lost.is_set() and not self._stopping.is_set():
                    # A crash: give the lease up; the supervisor restarts us with backoff.
                    self._inner_task = None
                    failure = _failure_of(task)
                    raise RuntimeError(f"{self.name} stopped while holding its lease") from failure
                await self._stop_inner(abandon=lease.lost.is_set())
        finally:
            await self._stop_inner()
            await lease.aclose()

    async def _activate(self, lease: KafkaLease) -> bool:
        """Await ``on_active``; False when stopping or the lease went meanwhile.

        Raises when the hook failed, so ``inner`` never runs without it (e.g. unhalted).
        """
        previous, self._held_as = self._held_as, _membership(lease)
        if self._on_active is None or _kept(previous, self._held_as):
            return True
        hook = asyncio.ensure_future(self._on_active())
        if not await self._first(hook):
            return False
        try:
            hook.result()
        except Exception as exc:
            self._held_as = None  # the next holding must run it again
            log.error(
                "singleton activation failed", extra={"service": self.name, "error": repr(exc)}
            )
            raise RuntimeError(f"{self.name} did not start: its activation failed") from exc
        return lease.held.is_set() and not lease.lost.is_set()

    async def _first(self, *waits: Awaitable[Any]) -> bool:
        """Wait for the first of ``waits`` or ``stop()``; False when stopping came first."""
        stop = asyncio.ensure_future(self._stopping.wait())
        tasks = [asyncio.ensure_future(w) for w in waits]
        try:
            await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, *tasks):
                if task is not self._inner_task and not task.done():
                    task.cancel()
        return not self._stopping.is_set()

    async def _abandon(self) -> None:
        await self._stop_inner(abandon=True)

    async def _stop_inner(self, abandon: bool = False) -> None:
        """Stop ``inner``; ``abandon`` when the lease is gone: another process owns the work
        now, so a processor stops after the batch in hand instead of draining its input."""
        task = self._inner_task
        if task is None:
            return
        give_up = getattr(self.inner, "abandon", None) if abandon else None
        if give_up is not None:
            give_up()
        else:
            self.inner.stop()
        try:
            async with asyncio.timeout(self._stop_timeout):
                await asyncio.shield(task)
        except TimeoutError:
            log.error("singleton did not stop in time; cancelling", extra={"service": self.name})
            task.cancel()
        except asyncio.CancelledError:
            if cancelling():
                raise  # this caller is being cancelled; the inner task ended cancelled otherwise
        except Exception:
            log.warning("singleton ended with an error", extra={"service": self.name})
        finally:
            if self._inner_task is task:
                self._inner_task = None

    def stop(self) -> None:
        self._stopping.set()
        self.inner.stop()

    def health(self) -> ComponentHealth:
        if self.active:
            return self.inner.health()
        return ComponentHealth(name=self.name, status=ComponentStatus.STOPPED, detail="standby")


def _failure_of(task: asyncio.Task[None]) -> BaseException | None:
    """What ended ``task``; for one that ended cancelled, the cancellation (its context is
    what it interrupted: an outage, so the supervisor can tell one from a crash)."""
    try:
        return task.exception()
    except asyncio.CancelledError as cancelled:
        return cancelled


def _membership(lease: KafkaLease) -> tuple[str, int] | None:
    """The lease consumer's (member id, generation); aiokafka keeps them in its coordinator."""
    coordinator = getattr(lease._consumer, "_coordinator", None)
    member = getattr(coordinator, "member_id", None)
    generation = getattr(coordinator, "generation", None)
    if not member or not isinstance(generation, int) or generation < 0:
        return None
    return str(member), generation


def _kept(previous: tuple[str, int] | None, now: tuple[str, int] | None) -> bool:
    """True when the lease came straight back: same member, the very next generation."""
    return previous is not None and now is not None and now == (previous[0], previous[1] + 1)
