"""The recorder keeps every tick the bus carries, and never holds the pipeline back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pyarrow as pa
import pytest

from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.events import topics
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import RiskAlert, Tick
from engine.events.types import ComponentStatus, EventType, Severity
from storage.ticks.config import RecorderConfig
from storage.ticks.layout import ist_day
from storage.ticks.reader import iter_day_ticks, list_days
from storage.ticks.recorder import TickRecorder
from storage.ticks.writer import TickWriter
from tests.helpers import eventually
from tests.storage.ticks.support import DAY_START_NS, make_ticks, write_stream

DAY = ist_day(DAY_START_NS)


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    async with MemoryBus() as memory_bus:
        yield memory_bus


async def _publish(bus: MemoryBus, ticks: Sequence[Tick]) -> None:
    for tick in ticks:
        envelope = new_event(
            EventType.MARKET_TICK, tick, source="test-feed", key=str(tick.instrument_token)
        )
        await bus.publish(topics.MARKET_TICKS, envelope, envelope.key)


def _recorder(bus: MemoryBus, root: Path, **overrides: object) -> TickRecorder:
    config = RecorderConfig(root=root, flush_seconds=0.05, **overrides)  # type: ignore[arg-type]
    return TickRecorder(bus=bus, config=config, clock=ManualClock(DAY_START_NS))


async def test_every_published_tick_is_in_the_sealed_day_after_a_stop(
    bus: MemoryBus, tmp_path: Path
) -> None:
    ticks = make_ticks(3_000)
    recorder = _recorder(bus, tmp_path)
    task = asyncio.create_task(recorder.run())
    await _publish(bus, ticks)
    await eventually(lambda: recorder.recorded == len(ticks))
    recorder.stop()
    await task
    assert [p.suffix for p in (tmp_path / DAY.isoformat()).iterdir()] == [".parquet"]
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks
    assert recorder.health().detail == "3,000 recorded"


async def test_start_seals_a_killed_recorders_segment_and_prunes_old_days(
    bus: MemoryBus, tmp_path: Path
) -> None:
    left = make_ticks(7)
    write_stream(tmp_path / DAY.isoformat() / "killed.arrows", [left])
    TickWriter(tmp_path).write(make_ticks(3, start_ns=DAY_START_NS - 40 * 86_400 * 10**9))
    recorder = _recorder(bus, tmp_path, retention_days=30)
    task = asyncio.create_task(recorder.run())
    await eventually(lambda: recorder.status is ComponentStatus.RUNNING)
    recorder.stop()
    await task
    assert [(s.day, s.ticks) for s in list_days(tmp_path)] == [(DAY, 7)]
    assert [p.suffix for p in (tmp_path / DAY.isoformat()).iterdir()] == [".parquet"]


async def test_a_stalled_disk_drops_ticks_with_a_count_and_never_blocks_the_feed(
    bus: MemoryBus, tmp_path: Path
) -> None:
    recorder = _recorder(bus, tmp_path, max_buffered=1_000)
    disk = threading.Event()
    real_write = recorder._writer.write

    def stalled_write(batch: Sequence[Tick]) -> None:
        disk.wait(30)
        real_write(batch)

    recorder._writer.write = stalled_write  # type: ignore[method-assign]
    alerts = await bus.subscribe([topics.SYSTEM_ALERTS], "test-alerts")
    messages: list[str] = []

    async def alert_names_every_drop() -> bool:
        records = await alerts.fetch(100, timeout=0.1)
        messages.extend(
            r.envelope.data.message
            for r in records
            if r.envelope and isinstance(r.envelope.data, RiskAlert)
        )
        return any(f"dropped {recorder.dropped:,} ticks" in m for m in messages)

    task = asyncio.create_task(recorder.run())
    ticks = make_ticks(20_000)
    try:
        await asyncio.wait_for(_publish(bus, ticks), timeout=30)  # 20x the buffer went through
        await eventually(
            lambda: recorder.subscription is not None and recorder.subscription.lag() == 0
        )
        assert recorder.dropped >= len(ticks) - 1_000
        health = recorder.health()
        assert health.status is ComponentStatus.DEGRADED
        assert "dropped (disk too slow)" in health.detail
        await eventually(alert_names_every_drop, timeout=10)
        assert all(m.startswith("tick recorder dropped ") for m in messages)
    finally:
        disk.set()
    recorder.stop()
    await task
    assert recorder.recorded + recorder.dropped == len(ticks)
    assert recorder.recorded == len(list(iter_day_ticks(tmp_path, DAY))) <= 1_000


async def test_a_failing_disk_counts_the_lost_ticks_and_keeps_consuming(
    bus: MemoryBus, tmp_path: Path
) -> None:
    recorder = _recorder(bus, tmp_path)

    def full_disk(batch: Sequence[Tick]) -> None:
        raise OSError(28, "No space left on device")

    recorder._writer.write = full_disk  # type: ignore[method-assign]
    task = asyncio.create_task(recorder.run())
    await _publish(bus, make_ticks(500))
    await eventually(lambda: recorder.dropped == 500)
    assert "No space left on device" in recorder.health().detail
    recorder.stop()
    await task


async def test_a_store_that_cannot_be_tidied_still_records(bus: MemoryBus, tmp_path: Path) -> None:
    foreign = tmp_path / DAY.isoformat() / "other.arrows"
    foreign.parent.mkdir(parents=True)
    other = pa.schema([pa.field("price", pa.float64())])
    with pa.OSFile(str(foreign), "wb") as sink, pa.ipc.new_stream(sink, other) as stream:
        stream.write_batch(pa.record_batch([pa.array([1.5])], schema=other))
    recorder = _recorder(bus, tmp_path)
    task = asyncio.create_task(recorder.run())
    ticks = make_ticks(50)
    await _publish(bus, ticks)
    await eventually(lambda: recorder.recorded == len(ticks))
    assert "50 recorded (tidying the store: " in recorder.health().detail
    recorder.stop()
    await task
    assert foreign.exists()  # not ours to delete


async def test_a_stray_event_on_the_tick_topic_is_skipped_and_the_ticks_around_it_kept(
    bus: MemoryBus, tmp_path: Path
) -> None:
    ticks = make_ticks(10)
    recorder = _recorder(bus, tmp_path)
    task = asyncio.create_task(recorder.run())
    await _publish(bus, ticks[:5])
    alert = RiskAlert(severity=Severity.WARNING, rule="x", message="not a tick", alert_ts=1)
    stray = new_event(EventType.RISK_ALERT, alert, source="test", key="408065")
    await bus.publish(topics.MARKET_TICKS, stray, stray.key)
    await _publish(bus, ticks[5:])
    await eventually(lambda: recorder.recorded == len(ticks))
    recorder.stop()
    await task
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks
    assert recorder.dropped == 0


async def test_buffered_and_in_flight_ticks_never_exceed_the_bound(
    bus: MemoryBus, tmp_path: Path
) -> None:
    """The fast path looks at the buffer only at its room mark: the bound still holds at
    every tick, with a write in flight or not."""
    bound = 40
    recorder = _recorder(bus, tmp_path, max_buffered=bound)
    disk = threading.Event()
    real_write = recorder._writer.write

    def stalled_write(batch: Sequence[Tick]) -> None:
        disk.wait(30)
        real_write(batch)

    recorder._writer.write = stalled_write  # type: ignore[method-assign,assignment]
    real_handle = recorder.handle_now
    held: list[int] = []

    def handle_and_measure(envelope: EventEnvelope) -> bool:
        handled = real_handle(envelope)
        held.append(len(recorder._buffer) + recorder._in_flight)
        return handled

    recorder.handle_now = handle_and_measure  # type: ignore[method-assign]
    task = asyncio.create_task(recorder.run())
    ticks = make_ticks(500)
    try:
        await _publish(bus, ticks)
        await eventually(lambda: len(held) == len(ticks))
        assert max(held) == bound
        assert recorder.dropped == len(ticks) - bound
    finally:
        disk.set()
    recorder.stop()
    await task
    assert recorder.recorded == bound
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks[:bound]  # the first, in order


async def test_a_write_ending_after_the_next_began_leaves_the_next_one_counted_in_flight(
    bus: MemoryBus, tmp_path: Path
) -> None:
    """A write's future is done a loop turn before its callback runs; a write started in
    that turn must stay counted in flight (the bound depends on it)."""
    recorder = _recorder(bus, tmp_path)
    gates = [threading.Event(), threading.Event()]
    writes = iter(gates)
    real_write = recorder._writer.write

    def gated_write(batch: Sequence[Tick]) -> None:
        next(writes).wait(30)
        real_write(batch)

    recorder._writer.write = gated_write  # type: ignore[method-assign,assignment]
    ticks = make_ticks(7)
    envelopes = [new_event(EventType.MARKET_TICK, t, source="test") for t in ticks]
    for envelope in envelopes[:3]:
        recorder.handle_now(envelope)
    recorder._start_write()
    first = recorder._write
    assert first is not None
    gates[0].set()
    while not first.done():
        await asyncio.sleep(0)
    for envelope in envelopes[3:]:  # the first write's callback has not run yet
        recorder.handle_now(envelope)
    recorder._start_write()
    await asyncio.sleep(0.05)
    assert recorder.recorded == 3
    assert recorder._in_flight == 4
    gates[1].set()
    await eventually(lambda: recorder.recorded == 7)
    assert recorder._in_flight == 0
    await recorder.on_stop()
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks
