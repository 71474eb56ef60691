"""Small processors and helpers for the processing-contract tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from engine.bus.base import EventBus, Record
from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope, new_event
from engine.events.types import EventType
from engine.processing import (
    BreakerConfig,
    Emitter,
    ProcessorConfig,
    RetryPolicy,
    StreamProcessor,
)
from tests.unit.events.samples import tick

Handler = Callable[[EventEnvelope, Emitter], Awaitable[None]]

FAST = ProcessorConfig(
    retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005),
    breaker=BreakerConfig(failure_threshold=1000, cooldown=0.05, max_cooldown=0.1),
    batch_size=64,
    poll_timeout=0.02,
)


def event(n: int, key: str = "k") -> EventEnvelope:
    return new_event(EventType.MARKET_TICK, tick(ts=n), source="test", key=key)


def seq(envelope: EventEnvelope) -> int:
    return envelope.data.exchange_ts  # type: ignore[union-attr]


class Probe(StreamProcessor):
    """Records every handler call; behaviour comes from an optional ``on_event`` callback."""

    def __init__(
        self,
        bus: EventBus,
        topics: list[str] | None = None,
        *,
        name: str = "probe",
        config: ProcessorConfig = FAST,
        on_event: Handler | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(name=name, bus=bus, input_topics=topics or ["in"], config=config, **kwargs)  # type: ignore[arg-type]
        self.calls: list[EventEnvelope] = []
        self.handled: list[EventEnvelope] = []
        self.on_event = on_event

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        self.calls.append(envelope)
        if self.on_event is not None:
            await self.on_event(envelope, out)
        self.handled.append(envelope)


async def read_all(bus: MemoryBus, topic: str, group: str = "reader") -> list[Record]:
    """Everything a fresh group sees on ``topic`` (fetches until a short timeout)."""
    sub = await bus.subscribe([topic], group)
    records: list[Record] = []
    while batch := await sub.fetch(1000, 0.02):
        records.extend(batch)
    await sub.aclose()
    return records


async def stop_and_wait(proc: StreamProcessor, task: asyncio.Task[None]) -> None:
    proc.stop()
    await asyncio.wait_for(task, 5)
