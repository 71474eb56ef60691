"""Funds reach a console in another process: the process holding the venue publishes the
figures its read model got (once per change), a console's read model and the read cache
take them, and a late copy never steps the figures back."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.events import topics
from engine.events.types import Broker, ComponentStatus
from engine.execution.funds import Funds
from engine.processing.processor import ProcessorConfig
from engine.read_model import ReadModel, ReadModelProcessor
from engine.read_model.cache_writer import CacheWriter
from engine.read_model.funds_relay import FundsRelay
from storage.read_cache import MemoryReadCache
from tests.helpers import eventually

P = Broker.PAPER


def funds(available: str, used: str, as_of_ns: int) -> Funds:
    return Funds(Decimal(available), Decimal(used), "paper", as_of_ns)


async def test_the_relay_publishes_each_newer_figure_once() -> None:
    bus = MemoryBus()
    await bus.start()
    engine_model = ReadModel()
    relay = FundsRelay(bus=bus, model=engine_model, broker=P)
    subscription = await bus.subscribe([topics.pnl_snapshots(P)], "console")

    await relay.run_once()  # no funds yet: nothing
    engine_model.set_funds(funds("98112.50", "1887.50", 10))
    await relay.run_once()
    await relay.run_once()  # the same figures: not again
    engine_model.set_funds(funds("97000.00", "3000.00", 20))
    await relay.run_once()

    records = await subscription.fetch(100, 0.05)
    sent = [r.envelope.data for r in records if r.envelope]
    assert [(s.available, s.used, s.as_of_ns) for s in sent] == [  # type: ignore[union-attr]
        (Decimal("98112.50"), Decimal("1887.50"), 10),
        (Decimal("97000.00"), Decimal("3000.00"), 20),
    ]
    assert all(r.key == "paper:funds" for r in records)
    await subscription.aclose()
    await bus.aclose()


async def test_a_console_and_the_cache_show_the_newest_figures_and_ignore_late_copies() -> None:
    bus = MemoryBus()
    await bus.start()
    engine_model, console_model = ReadModel(), ReadModel()
    cache = MemoryReadCache(P)
    config = ProcessorConfig(poll_timeout=0.02)
    reader = ReadModelProcessor(bus=bus, model=console_model, broker=P, config=config)
    writer = CacheWriter(bus=bus, cache=cache, config=config)
    relay = FundsRelay(bus=bus, model=engine_model, broker=P)
    tasks = [asyncio.create_task(s.run()) for s in (reader, writer)]
    try:
        await eventually(
            lambda: all(s.status is ComponentStatus.RUNNING for s in (reader, writer)),
            message="reader and cache writer not running",
        )
        engine_model.set_funds(funds("98112.50", "1887.50", 20))
        await relay.run_once()
        await eventually(lambda: console_model.funds == engine_model.funds, message="not shown")

        async def cached_figures() -> bool:
            cached = await cache.funds()
            return cached is not None and cached.available == Decimal("98112.50")

        await eventually(cached_figures, message="not cached")

        # an older copy (a redelivery, another process's earlier read) arrives late
        late = FundsRelay(bus=bus, model=ReadModel(), broker=P)
        late.model.set_funds(funds("100000.00", "0.00", 10))
        await late.run_once()
        await eventually(lambda: bus.total_lag() == 0, message="not consumed")
        assert console_model.funds == engine_model.funds  # still the newer figures
        cached = await cache.funds()
        assert cached is not None and cached.as_of_ns == 20
    finally:
        for service in (reader, writer):
            service.stop()
        await asyncio.gather(*tasks)
        await bus.aclose()
