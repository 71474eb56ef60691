"""Every record takes one path: quiet or logging at debug, with the in-memory dedup window
or a durable store, through ``handle_now`` or ``handle``, it is retried, dead-lettered and
deduplicated alike."""

from __future__ import annotations

import asyncio
import logging

import pytest

from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope
from engine.events.payloads import DeadLetter
from engine.events.types import EventType
from engine.processing import DedupStore, Emitter, MemoryDedupWindow
from tests.helpers import eventually
from tests.unit.processing.support import FAST, Probe, event, read_all, seq, stop_and_wait


class DurableDedup:
    """A dedup store that is not the in-memory window (as the database's is)."""

    def __init__(self) -> None:
        self.ids: set[tuple[str, str]] = set()

    async def seen(self, group: str, event_id: str) -> bool:
        return (group, event_id) in self.ids

    async def mark(self, group: str, event_id: str) -> None:
        self.ids.add((group, event_id))


class QuickProbe(Probe):
    """A processor with a synchronous fast path that fails on odd events."""

    def __init__(self, bus: MemoryBus, **kwargs: object) -> None:
        super().__init__(bus, **kwargs)  # type: ignore[arg-type]
        self.quick_calls: list[EventEnvelope] = []

    def handle_now(self, envelope: EventEnvelope) -> bool:
        self.quick_calls.append(envelope)
        if seq(envelope) % 2:
            raise RuntimeError("odd")
        return True


async def dead_letters(bus: MemoryBus) -> list[DeadLetter]:
    records = await read_all(bus, "in.dlq")
    assert all(r.envelope and r.envelope.type is EventType.DEAD_LETTER for r in records)
    return [r.envelope.data for r in records]  # type: ignore[union-attr,misc]


@pytest.mark.parametrize("store", ["memory", "durable"])
@pytest.mark.parametrize("level", [logging.WARNING, logging.DEBUG], ids=["quiet", "debug"])
async def test_every_path_retries_dead_letters_and_skips_duplicates_alike(
    level: int, store: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(level, logger="alphapanda")
    bus = MemoryBus(partitions=1)

    async def fail_odd(envelope: EventEnvelope, out: Emitter) -> None:
        if seq(envelope) % 2:
            raise RuntimeError("odd")

    dedup: DedupStore = MemoryDedupWindow() if store == "memory" else DurableDedup()
    proc = Probe(bus, on_event=fail_odd, dedup=dedup)
    events = [event(n) for n in range(4)]
    for env in [*events, events[0]]:
        await bus.publish("in", env)
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 2 and proc.stats.dead_lettered == 2)
    await eventually(lambda: proc.stats.duplicates == 1)
    await stop_and_wait(proc, task)

    assert len(proc.calls) == 2 + 2 * FAST.retry.max_attempts
    assert [letter.attempts for letter in await dead_letters(bus)] == [3, 3]


@pytest.mark.parametrize("level", [logging.WARNING, logging.DEBUG], ids=["quiet", "debug"])
async def test_a_failing_fast_path_is_the_first_attempt_of_the_same_retries(
    level: int, caplog: pytest.LogCaptureFixture
) -> None:
    """``handle_now`` raising counts as attempt 1; ``handle`` makes the rest, then the
    record is dead-lettered; an event done in ``handle_now`` never reaches ``handle``."""
    caplog.set_level(level, logger="alphapanda")
    bus = MemoryBus(partitions=1)

    async def fail_odd(envelope: EventEnvelope, out: Emitter) -> None:
        if seq(envelope) % 2:
            raise RuntimeError("odd")

    proc = QuickProbe(bus, on_event=fail_odd)
    events = [event(n) for n in range(4)]
    for env in [*events, events[1]]:
        await bus.publish("in", env)
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 2 and proc.stats.dead_lettered == 2)
    await eventually(lambda: proc.stats.duplicates == 1)
    await stop_and_wait(proc, task)

    assert [seq(e) for e in proc.quick_calls] == [0, 1, 2, 3]  # once each: no repeat
    assert [seq(e) for e in proc.calls] == [1] * (FAST.retry.max_attempts - 1) + [3] * (
        FAST.retry.max_attempts - 1
    )
    assert [letter.attempts for letter in await dead_letters(bus)] == [3, 3]
    assert proc.stats.failures == 2 * FAST.retry.max_attempts
