"""Fixtures: a bus, a store and a way to start engine processes that stop at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from engine.bus.memory import MemoryBus
from engine.memory_store import MemoryTradingStore
from tests.unit.trading_state.harness import EngineProcess, Observer

StartProcess = Callable[..., Awaitable[EngineProcess]]


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus(partitions=2)


@pytest.fixture
def store() -> MemoryTradingStore:
    return MemoryTradingStore()


@pytest.fixture
async def observer(bus: MemoryBus) -> AsyncIterator[Observer]:
    watching = await Observer.attach(bus)
    yield watching
    await watching.close()


@pytest.fixture
async def start_process(bus: MemoryBus, store: MemoryTradingStore) -> AsyncIterator[StartProcess]:
    started: list[EngineProcess] = []

    async def start(instance_id: str = "engine-1", **kwargs: Any) -> EngineProcess:
        kwargs.setdefault("store", store)
        process = await EngineProcess(bus, kwargs.pop("store"), instance_id, **kwargs).start()
        started.append(process)
        return process

    yield start
    for process in started:
        await process.stop()
