"""What any caller may ask the in-process bus through the port, without probing its type:
publishes are final, a flush has nothing to wait for, the lag counts uncommitted work,
and a singleton runs as it is (no other process shares the bus)."""

from __future__ import annotations

from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope, new_event
from engine.events.types import EventType
from tests.kafka.leases import Worker
from tests.unit.events.samples import tick


def event(n: int) -> EventEnvelope:
    return new_event(EventType.MARKET_TICK, tick(ts=n), source="test", key=f"k{n % 3}")


async def test_the_memory_bus_answers_the_port_as_one_process() -> None:
    bus: EventBus = MemoryBus(partitions=2)
    assert bus.durable_on_publish is True  # a crashed processor keeps its dedup window
    assert bus.shared_by_processes is False  # no lease: every stage runs here
    worker = Worker("risk")
    assert bus.singleton(worker, "paper.risk") is worker


async def test_lag_counts_what_a_group_has_not_committed_and_flush_returns_at_once() -> None:
    async with MemoryBus(partitions=2) as bus:
        sub = await bus.subscribe(["ticks"], "g")
        for n in range(6):
            await bus.publish("ticks", event(n))
        await bus.flush()  # nothing to acknowledge in-process: returns, raises nothing
        assert bus.total_lag() == 6 and bus.has_lag()
        records = await sub.fetch(100, 0.05)
        assert len(records) == 6
        assert bus.total_lag() == 6, "fetched is not done"
        await sub.commit(records[:4])
        assert bus.total_lag() == 2 and bus.has_lag()
        await sub.commit(records)
        assert bus.total_lag() == 0 and not bus.has_lag()
