"""A singleton's ``on_active`` hook runs when its process takes the lease, before the
service starts: live execution halts there, so a standby that merely starts halts nothing,
and a new holder halts before it can send an order."""

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


def _hook(worker: Worker, journal: list[str], seen_inner_running: list[bool]) -> object:
    async def on_active() -> None:
        seen_inner_running.append(worker.active)
        await asyncio.sleep(0.2)  # the service must wait for the hook to finish
        seen_inner_running.append(worker.active)
        journal.append(f"{worker.name}:active")

    return on_active


async def test_only_the_holder_runs_on_active_before_its_service_then_the_standby(
    kafka_bootstrap: str,
) -> None:
    lease = f"test.{uuid.uuid4().hex[:8]}"
    journal: list[str] = []
    seen: list[bool] = []
    async with (  # ``client_id`` orders the group's members: the first keeps the lease on a join
        fast_bus(kafka_bootstrap, client_id="a-holder") as bus_a,
        fast_bus(kafka_bootstrap, client_id="b-spare") as bus_b,
    ):
        first, second = Worker("first", journal), Worker("second", journal)
        sup_a = Supervisor(
            [LeasedService(first, bus_a, lease, on_active=_hook(first, journal, seen))]
        )
        sup_b = Supervisor(
            [LeasedService(second, bus_b, lease, on_active=_hook(second, journal, seen))]
        )
        sup_a.start()
        try:
            await eventually(lambda: first.active, timeout=20, message="first holds the lease")
            assert journal == ["first:active", "first:run"]
            sup_b.start()  # a standby joins: the group rebalances, the lease stays put
            await asyncio.sleep(3.0)
            assert first.active and not second.active
            assert [h.detail for h in sup_b.health()] == ["standby"]
            assert "second:active" not in journal
            assert journal.count("first:active") == 1, journal  # kept, not taken again

            await sup_a.stop()  # the holder leaves: the standby takes over
            await eventually(lambda: second.active, timeout=15, message="standby took over")
            assert journal[-2:] == ["second:active", "second:run"]
            assert seen and not any(seen), "a service ran before its on_active finished"
        finally:
            await sup_a.stop()
            await sup_b.stop()


async def test_a_failing_on_active_keeps_the_service_stopped_and_is_retried(
    kafka_bootstrap: str,
) -> None:
    lease = f"test.{uuid.uuid4().hex[:8]}"
    journal: list[str] = []
    worker = Worker("execution", journal)
    failures = [RuntimeError("the halt could not be published")]

    async def on_active() -> None:
        journal.append("on_active")
        if failures:
            raise failures.pop()

    async with fast_bus(kafka_bootstrap, client_id="alone") as bus:
        leased = LeasedService(worker, bus, lease, on_active=on_active)
        supervisor = Supervisor([leased], restart_delay=0.2)
        supervisor.start()
        try:
            await eventually(lambda: worker.active, timeout=30, message="running after a retry")
            assert journal == ["on_active", "on_active", "execution:run"]
            assert supervisor.restarts["execution"] == 1
        finally:
            await supervisor.stop()
