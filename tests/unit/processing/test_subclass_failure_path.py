"""A protection event that cannot be handled is dead-lettered like any other processor's.

The service once named its own log-fields helper ``_extra``, the name the processor's
failure path calls with the bus record, so a failing event crashed the service instead.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from engine.bus.memory import MemoryBus
from engine.events import topics
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import DeadLetter, ProtectionCommand
from engine.events.types import Broker, EventType
from engine.memory_store import MemoryTradingStore
from engine.processing import Emitter, ProcessorConfig, RetryPolicy
from engine.protection.service import ProtectionService
from engine.trading_state.state import TradingState
from tests.helpers import eventually
from tests.unit.processing.support import read_all

P = Broker.PAPER


async def _dead_letters(bus: MemoryBus) -> list[DeadLetter]:
    records = await read_all(bus, topics.dlq(topics.CONTROL_COMMANDS))
    return [
        r.envelope.data for r in records if r.envelope and isinstance(r.envelope.data, DeadLetter)
    ]


async def test_a_failing_command_is_dead_lettered_and_the_service_runs_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MemoryBus(partitions=1)
    service = ProtectionService(
        bus=bus,
        broker=P,
        store=MemoryTradingStore(),
        trading_state=TradingState(P),
        config=ProcessorConfig(retry=RetryPolicy(max_attempts=1), poll_timeout=0.02),
    )

    async def broken(envelope: EventEnvelope, out: Emitter) -> None:
        raise RuntimeError("store unavailable")

    service.handle = broken  # type: ignore[method-assign]  # the failure under test
    command = ProtectionCommand(broker=P, strategy="manual", instrument_token=738561)
    await bus.publish(
        topics.CONTROL_COMMANDS,
        new_event(EventType.PROTECTION_COMMAND, command, source="ops", broker=P),
    )
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(service.run())
    try:
        await eventually(lambda: service.stats.dead_lettered == 1, message="no dead letter")
        assert not task.done()  # still consuming
    finally:
        service.stop()
        await asyncio.wait_for(task, 5)

    letters = await _dead_letters(bus)
    assert len(letters) == 1
    assert "store unavailable" in letters[0].error
    failed = [r for r in caplog.records if r.getMessage() == "handler failed"]
    assert failed and failed[0].processor == "protection.paper"  # type: ignore[attr-defined]
