"""Singletons on a cluster: one process at a time holds a service's lease; a standby takes
over when the holder leaves, and a crashing singleton gives the lease up instead of spinning."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from engine.bus.kafka import LeasedService
from engine.processing import Supervisor
from tests.helpers import eventually
from tests.kafka.broker import fast_bus
from tests.kafka.leases import Worker

pytestmark = pytest.mark.kafka


async def test_one_holder_at_a_time_and_a_standby_takes_over(kafka_bootstrap: str) -> None:
    lease = f"test.{uuid.uuid4().hex[:8]}"
    async with fast_bus(kafka_bootstrap) as bus_a, fast_bus(kafka_bootstrap) as bus_b:
        first, second = Worker("portfolio"), Worker("portfolio")
        sup_a = Supervisor([LeasedService(first, bus_a, lease)])
        sup_b = Supervisor([LeasedService(second, bus_b, lease)])
        sup_a.start()
        sup_b.start()
        try:
            await eventually(lambda: first.active or second.active, timeout=20, message="leader")
            await asyncio.sleep(1.5)  # a second member joined: still exactly one active
            assert first.active != second.active
            holder, standby = (sup_a, sup_b) if first.active else (sup_b, sup_a)
            waiting = second if first.active else first
            assert [h.detail for h in standby.health()] == ["standby"]
            await holder.stop()  # leaves the group: the standby gets the lease at once
            await eventually(lambda: waiting.active, timeout=15, message="standby took over")
            assert not (first.active and second.active)
        finally:
            await sup_a.stop()
            await sup_b.stop()


async def test_a_crashing_singleton_is_restarted_with_backoff(kafka_bootstrap: str) -> None:
    lease = f"test.{uuid.uuid4().hex[:8]}"
    async with fast_bus(kafka_bootstrap) as bus:
        worker = Worker("risk")
        supervisor = Supervisor([LeasedService(worker, bus, lease)], restart_delay=0.2)
        supervisor.start()
        try:
            await eventually(lambda: worker.active, timeout=20, message="leader")
            worker.crash = True
            await eventually(lambda: supervisor.restarts["risk"] >= 1, timeout=10)
            worker.crash = False
            await eventually(lambda: worker.active, timeout=20, message="running again")
            assert worker.runs == 2
            assert supervisor.restarts["risk"] == 1
        finally:
            await supervisor.stop()


async def test_standbys_joining_leave_the_lease_with_its_holder(kafka_bootstrap: str) -> None:
    """Each join rebalances the group; the lease must not move to the newcomer (a live
    execution that moves halts and reconciles: starting a standby would halt trading)."""
    from engine.bus.kafka import KafkaLease

    name = f"test.{uuid.uuid4().hex[:8]}"
    # Member ids start with the client id: every newcomer sorts before the holder, so a
    # round-robin assignment would hand it the lease on each join.
    buses = [
        fast_bus(kafka_bootstrap, client_id=client_id)
        for client_id in ("z-holder", "c-standby", "b-standby", "a-standby")
    ]
    leases = [KafkaLease(bus, name) for bus in buses]
    try:
        await leases[0].start()
        await eventually(lambda: leases[0].held.is_set(), timeout=20, message="first holds")
        for standby in leases[1:]:
            await standby.start()
            await asyncio.sleep(0.5)  # the join starts a rebalance: every lease is revoked
            await eventually(
                lambda: any(lease.held.is_set() for lease in leases),
                timeout=20,
                message="the rebalance after a join settled",
            )
            assert leases[0].held.is_set(), "the lease moved to a process that joined"
            assert not any(other.held.is_set() for other in leases[1:])

        await leases[0].aclose()  # the holder leaves: exactly one standby takes over
        await eventually(
            lambda: sum(lease.held.is_set() for lease in leases[1:]) == 1,
            timeout=15,
            message="one standby took over",
        )
    finally:
        for lease in leases:
            await lease.aclose()
        for bus in buses:
            await bus.aclose()
