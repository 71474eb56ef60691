"""What a caller asks the Kafka bus through the port instead of probing its type: outputs
are durable only once flushed, its lag is its own members' unfinished records, and a
singleton runs under a lease."""

from __future__ import annotations

import uuid

import pytest

from engine.bus.base import EventBus
from engine.bus.kafka import LeasedService
from engine.events import EventType, new_event
from tests.helpers import eventually
from tests.kafka.broker import fast_bus
from tests.kafka.leases import Worker
from tests.unit.events.samples import tick

pytestmark = pytest.mark.kafka


async def test_the_kafka_bus_answers_the_port_as_a_shared_cluster(kafka_bootstrap: str) -> None:
    bus: EventBus = fast_bus(kafka_bootstrap)
    assert bus.durable_on_publish is False  # a crashed processor redoes lost outputs
    assert bus.shared_by_processes is True
    worker = Worker("execution")
    leased = bus.singleton(worker, f"test.{uuid.uuid4().hex[:8]}")
    assert isinstance(leased, LeasedService) and leased.inner is worker
    assert leased.name == "execution"
    assert bus.has_lag() is False  # other processes keep publishing: drains are per processor


async def test_total_lag_counts_this_process_members_unfinished_records(
    kafka_bootstrap: str,
) -> None:
    topic, group = f"port.{uuid.uuid4().hex[:8]}", f"g.{uuid.uuid4().hex[:8]}"
    async with fast_bus(kafka_bootstrap, commit_interval_ms=20) as bus:
        await bus.ensure_topics([topic])
        for n in range(8):
            await bus.publish(topic, new_event(EventType.MARKET_TICK, tick(ts=n), source="t"))
        await bus.flush()
        assert bus.total_lag() == 0, "no member here yet"
        sub = await bus.subscribe([topic], group)
        records = []
        for _ in range(40):
            records += await sub.fetch(100, 0.25)
            if len(records) >= 8:
                break
        assert len(records) == 8
        assert bus.total_lag() == 8, "fetched is not finished"
        await sub.commit(records[:5])
        assert bus.total_lag() == 3
        await sub.commit(records)
        await eventually(lambda: bus.total_lag() == 0, timeout=5, message="all finished")
        await sub.aclose()
        assert bus.total_lag() == 0
