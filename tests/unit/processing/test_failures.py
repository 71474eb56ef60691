"""Failures: retry with backoff, dead letters with the reason, no loops, no swallowed cancels."""

from __future__ import annotations

import asyncio
import logging

import pytest

from engine.bus.memory import MemoryBus
from engine.events.codec import decode_any
from engine.events.envelope import EventEnvelope
from engine.events.payloads import DeadLetter
from engine.events.types import EventType
from engine.processing import Emitter, PermanentError, ProcessorConfig, RetryPolicy
from engine.processing.codec_helpers import decode_dead_letter_original
from tests.helpers import eventually
from tests.unit.processing.support import FAST, Probe, event, read_all, seq, stop_and_wait


def fail_times(count: int, exc: Exception):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def handler(envelope: EventEnvelope, out: Emitter) -> None:
        calls["n"] += 1
        if calls["n"] <= count:
            raise exc

    return handler


async def dead_letters(bus: MemoryBus, topic: str = "in.dlq") -> list[DeadLetter]:
    records = await read_all(bus, topic)
    assert all(r.envelope and r.envelope.type is EventType.DEAD_LETTER for r in records)
    return [r.envelope.data for r in records]  # type: ignore[union-attr,misc]


async def test_transient_failure_is_retried_with_backoff_then_succeeds() -> None:
    bus = MemoryBus(partitions=1)
    config = ProcessorConfig(
        retry=RetryPolicy(max_attempts=4, base_delay=0.02, max_delay=0.1), poll_timeout=0.02
    )
    proc = Probe(bus, config=config, on_event=fail_times(2, TimeoutError("kite timed out")))
    await bus.publish("in", event(1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 1)
    elapsed = loop.time() - started
    await stop_and_wait(proc, task)

    assert len(proc.calls) == 3
    assert proc.stats.retries == 2
    assert elapsed >= 0.01 + 0.02  # at least half of each backoff cap: 0.02/2 + 0.04/2
    assert await read_all(bus, "in.dlq") == []


async def test_after_max_attempts_the_record_is_dead_lettered_with_the_reason() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(99, RuntimeError("margin service down")))
    original = event(5, key="NSE:SBIN")
    await bus.publish("in", original)
    await bus.publish("in", event(6, key="NSE:SBIN"))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.dead_lettered == 2)
    await stop_and_wait(proc, task)

    [letter, _] = await dead_letters(bus)
    assert letter.attempts == FAST.retry.max_attempts == len(proc.calls) // 2
    assert "RuntimeError: margin service down" in letter.error
    assert letter.source_topic == "in" and letter.processor == "probe"
    assert letter.original_key == "NSE:SBIN"
    assert decode_dead_letter_original(letter) == original
    assert bus.total_lag() == 0  # dead-lettered records are committed: the pipeline moves on


async def test_permanent_error_goes_straight_to_the_dlq() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(1, PermanentError("lot size 75, got 10")))
    await bus.publish("in", event(1))
    await bus.publish("in", event(2))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 1 and proc.stats.dead_lettered == 1)
    await stop_and_wait(proc, task)

    [letter] = await dead_letters(bus)
    assert letter.attempts == 1
    assert "PermanentError: lot size 75, got 10" in letter.error
    assert [seq(e) for e in proc.calls] == [1, 2]


async def test_undecodable_bytes_are_dead_lettered_and_the_pipeline_continues() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus)
    await bus.publish_raw("in", b"\x93garbage", key="k")
    await bus.publish("in", event(2))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 1)
    await stop_and_wait(proc, task)

    [letter] = await dead_letters(bus)
    assert "invalid envelope" in letter.error
    assert letter.original == b"\x93garbage"
    assert letter.attempts == 1
    assert [seq(e) for e in proc.handled] == [2]


async def test_a_dead_letter_that_fails_again_is_logged_not_requeued(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, ["in.dlq"], on_event=fail_times(99, PermanentError("cannot repair")))
    await bus.publish("in.dlq", event(1))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.dead_lettered == 1)
    await asyncio.sleep(0.05)  # give a loop, if any, the chance to show itself
    await stop_and_wait(proc, task)

    assert len(proc.calls) == 1
    assert await read_all(bus, "in.dlq.dlq") == []
    assert any("not re-queued" in r.getMessage() for r in caplog.records)


async def test_dead_letter_carries_the_event_correlation_in_its_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="alphapanda")
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(1, PermanentError("bad")))
    env = event(1, key="NSE:TCS")
    await bus.publish("in", env)
    task = asyncio.create_task(proc.run())
    await eventually(lambda: proc.stats.dead_lettered == 1)
    await stop_and_wait(proc, task)

    [dlq_log] = [r for r in caplog.records if r.getMessage() == "dead-lettered"]
    assert dlq_log.topic == "in"  # type: ignore[attr-defined]
    assert dlq_log.key == "NSE:TCS"  # type: ignore[attr-defined]
    assert dlq_log.event_id == env.id  # type: ignore[attr-defined]
    assert dlq_log.correlation_id == env.correlation_id  # type: ignore[attr-defined]
    produced = [r for r in caplog.records if r.getMessage() == "produce"]
    assert produced[0].topic == "in.dlq"  # type: ignore[attr-defined]
    assert (
        decode_any(
            (await read_all(bus, "in.dlq"))[0].envelope.data.original  # type: ignore[union-attr]
        )
        == env
    )


async def test_cancelled_error_from_a_handler_is_not_swallowed() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(99, asyncio.CancelledError()))
    await bus.publish("in", event(1))

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(proc.run(), 2)

    assert len(proc.calls) == 1  # not retried
    assert proc.stats.dead_lettered == 0
    assert [seq(r.envelope) for r in await read_all(bus, "in", "probe")] == [1]  # type: ignore[arg-type]


async def test_cancelled_handler_leaves_no_correlation_id_behind() -> None:
    from engine.logs.context import current_correlation_id

    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(99, asyncio.CancelledError()))
    await bus.publish("in", event(1))

    with pytest.raises(asyncio.CancelledError):
        await proc.run()

    assert current_correlation_id() is None


async def test_a_record_that_cannot_be_encoded_is_still_dead_lettered_not_crash_looped() -> None:
    """A year-10000 tick (ns beyond 64 bits) once made the dead letter itself fail to
    serialise, so the processor crashed on the record it was trying to set aside."""
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(1, PermanentError("ts out of range")))
    year_10000_ns = 253_402_300_800 * 10**9
    await bus.publish("in", event(year_10000_ns))
    await bus.publish("in", event(2))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 1 and proc.stats.dead_lettered == 1)
    assert not task.done()  # still running: no crash, no restart needed
    await stop_and_wait(proc, task)

    [letter] = await dead_letters(bus)
    assert "PermanentError: ts out of range" in letter.error
    assert "cannot be encoded" in letter.error
    assert str(year_10000_ns) in letter.original.decode()  # what it was, for the operator
    assert [seq(e) for e in proc.handled] == [2]


async def test_an_error_text_that_is_not_valid_unicode_still_makes_a_dead_letter() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, on_event=fail_times(1, PermanentError("bad row \udcff\udcfe")))
    await bus.publish("in", event(1))
    await bus.publish("in", event(2))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 1 and proc.stats.dead_lettered == 1)
    await stop_and_wait(proc, task)

    [letter] = await dead_letters(bus)
    assert letter.error.encode("utf-8")  # encodable: it can travel over Kafka
    assert "bad row" in letter.error
