"""At-least-once delivery, effectively-once effects: commit after success, skip redeliveries."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope
from engine.events.types import ComponentStatus, EventType
from engine.processing import Emitter, MemoryDedupWindow, RetryPolicy, Supervisor
from engine.processing.processor import ProcessorConfig
from tests.helpers import eventually
from tests.unit.processing.support import FAST, Probe, event, read_all, seq, stop_and_wait


class FlakyDedup(MemoryDedupWindow):
    """A dedup store whose backend fails once when asked about one event (a DB blip)."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.failed = False

    async def seen(self, group: str, event_id: str) -> bool:
        if not self.failed and self.fail_on_id == event_id:
            self.failed = True
            raise ConnectionError("dedup store unavailable")
        return await super().seen(group, event_id)

    fail_on_id = ""


async def test_crash_mid_batch_redelivers_uncommitted_and_dedup_skips_handled() -> None:
    bus = MemoryBus(partitions=1)
    events = [event(n) for n in range(10)]
    for env in events:
        await bus.publish("in", env)
    dedup = FlakyDedup(fail_on=6)
    dedup.fail_on_id = events[6].id
    proc = Probe(bus, dedup=dedup)
    supervisor = Supervisor([proc], restart_delay=0.01)

    supervisor.start()
    await eventually(lambda: len(proc.handled) == 10 and bus.total_lag() == 0)
    await supervisor.stop()

    assert supervisor.restarts["probe"] == 1
    assert [seq(e) for e in proc.handled] == list(range(10))  # each effect exactly once
    assert proc.stats.duplicates == 6  # 0-5 came back uncommitted and were skipped


async def test_records_are_committed_only_after_the_handler_succeeds() -> None:
    bus = MemoryBus(partitions=1)
    gate = asyncio.Event()

    async def wait_for_gate(envelope: EventEnvelope, out: Emitter) -> None:
        await gate.wait()

    proc = Probe(bus, on_event=wait_for_gate)
    task = asyncio.create_task(proc.run())
    await bus.publish("in", event(1))
    await eventually(lambda: len(proc.calls) == 1)

    assert bus.total_lag() == 1  # in hand, not committed
    gate.set()
    await eventually(lambda: bus.total_lag() == 0)
    await stop_and_wait(proc, task)


async def test_stop_with_a_batch_in_hand_finishes_and_commits_it() -> None:
    bus = MemoryBus(partitions=1)
    gate = asyncio.Event()

    async def slow_first(envelope: EventEnvelope, out: Emitter) -> None:
        if seq(envelope) == 0:
            await gate.wait()

    for n in range(3):
        await bus.publish("in", event(n))
    proc = Probe(bus, on_event=slow_first)
    task = asyncio.create_task(proc.run())
    await eventually(lambda: len(proc.calls) == 1)

    proc.stop()
    gate.set()
    await asyncio.wait_for(task, 2)

    assert [seq(e) for e in proc.handled] == [0, 1, 2]
    assert await read_all(bus, "in", group="probe") == []  # all committed
    assert proc.health().status is ComponentStatus.STOPPED


def _small_batches(drain_timeout: float) -> ProcessorConfig:
    return ProcessorConfig(batch_size=2, poll_timeout=0.02, drain_timeout=drain_timeout)


async def _stopped_with_a_batch_in_hand(how: str) -> tuple[Probe, MemoryBus]:
    """Nine events, batches of 2; ``stop`` or ``abandon`` while the first batch is in hand."""
    bus = MemoryBus(partitions=1)
    gate = asyncio.Event()

    async def slow_first(envelope: EventEnvelope, out: Emitter) -> None:
        if seq(envelope) == 0:
            await gate.wait()

    for n in range(9):
        await bus.publish("in", event(n))
    proc = Probe(bus, config=_small_batches(drain_timeout=5.0), on_event=slow_first)
    task = asyncio.create_task(proc.run())
    await eventually(lambda: len(proc.calls) == 1)
    getattr(proc, how)()
    gate.set()
    await asyncio.wait_for(task, 2)
    return proc, bus


async def test_stop_drains_what_is_already_in_the_input_before_returning() -> None:
    """A graceful stop leaves no work behind: the stages upstream stopped first, so what
    is in the input now (fills, say) is all there will be; it is handled and committed."""
    proc, bus = await _stopped_with_a_batch_in_hand("stop")

    assert [seq(e) for e in proc.handled] == list(range(9))
    assert await read_all(bus, "in", group="probe") == []


async def test_abandon_stops_after_the_batch_in_hand_and_leaves_the_rest() -> None:
    """A lost lease: another process owns the work now, so nothing more is handled here."""
    proc, bus = await _stopped_with_a_batch_in_hand("abandon")

    assert [seq(e) for e in proc.handled] == [0, 1]
    left = await read_all(bus, "in", group="probe")
    assert [seq(r.envelope) for r in left] == list(range(2, 9))  # type: ignore[arg-type]


async def test_a_drain_that_cannot_finish_gives_up_after_its_timeout() -> None:
    bus = MemoryBus(partitions=1)

    async def keep_publishing(envelope: EventEnvelope, out: Emitter) -> None:
        await bus.publish("in", event(seq(envelope) + 1000))  # the input never runs dry

    await bus.publish("in", event(0))
    proc = Probe(bus, config=_small_batches(drain_timeout=0.3), on_event=keep_publishing)
    task = asyncio.create_task(proc.run())
    await eventually(lambda: len(proc.handled) >= 1)

    started = time.monotonic()
    await stop_and_wait(proc, task)

    assert time.monotonic() - started < 1.5


async def test_stop_during_a_long_backoff_returns_promptly_without_committing() -> None:
    bus = MemoryBus(partitions=1)

    async def always_fail(envelope: EventEnvelope, out: Emitter) -> None:
        raise RuntimeError("exchange unreachable")

    config = ProcessorConfig(retry=RetryPolicy(max_attempts=5, base_delay=30, max_delay=60))
    proc = Probe(bus, config=config, on_event=always_fail)
    await bus.publish("in", event(7))
    task = asyncio.create_task(proc.run())
    await eventually(lambda: len(proc.calls) == 1)

    started = time.monotonic()
    await stop_and_wait(proc, task)

    assert time.monotonic() - started < 1.0
    assert [seq(r.envelope) for r in await read_all(bus, "in", group="probe")] == [7]  # type: ignore[arg-type]
    assert await read_all(bus, "in.dlq") == []


async def test_stop_before_run_is_honoured_and_a_later_run_consumes_again() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus)
    proc.stop()

    await asyncio.wait_for(proc.run(), 1)  # returns at once instead of running forever

    await bus.publish("in", event(1))
    task = asyncio.create_task(proc.run())
    await eventually(lambda: len(proc.handled) == 1)
    await stop_and_wait(proc, task)


async def test_redelivered_event_id_is_handled_once() -> None:
    bus = MemoryBus(partitions=2)
    proc = Probe(bus)
    task = asyncio.create_task(proc.run())
    duplicate = event(1)

    await bus.publish("in", duplicate)
    await bus.publish("in", duplicate)
    await bus.publish("in", event(2))

    await eventually(lambda: proc.stats.processed + proc.stats.duplicates == 3)
    await stop_and_wait(proc, task)
    assert sorted(seq(e) for e in proc.handled) == [1, 2]
    assert proc.stats.duplicates == 1


async def test_emitted_event_ids_repeat_on_retry_so_downstream_dedup_holds() -> None:
    """The handler's outputs are re-published after a partial publish; ids stay the same."""

    class FlakyBus(MemoryBus):
        failed = False

        def publish_nowait(self, topic, envelope, key=None):  # type: ignore[no-untyped-def]
            if topic == "out.second" and not self.failed:
                self.failed = True
                raise ConnectionError("broker hiccup")
            return super().publish_nowait(topic, envelope, key)

    bus = FlakyBus(partitions=1)

    async def fan_out(envelope: EventEnvelope, out: Emitter) -> None:
        out.emit("out.first", EventType.MARKET_TICK, envelope.data, key=envelope.key)
        out.emit("out.second", EventType.MARKET_TICK, envelope.data, key=envelope.key)

    upstream = Probe(bus, name="upstream", on_event=fan_out)
    downstream = Probe(bus, ["out.first"], name="downstream")
    witness = await bus.subscribe(["out.first"], "witness")
    tasks = [asyncio.create_task(p.run()) for p in (upstream, downstream)]
    await bus.publish("in", event(1))

    await eventually(lambda: downstream.stats.processed + downstream.stats.duplicates == 2)
    for proc, task in zip((upstream, downstream), tasks, strict=True):
        await stop_and_wait(proc, task)

    first = await witness.fetch(10, 0.1)
    assert len(first) == 2  # published on the failed attempt and again on the retry
    assert first[0].envelope.id == first[1].envelope.id  # type: ignore[union-attr]
    assert upstream.stats.retries == 1
    assert len(downstream.handled) == 1
    assert downstream.stats.duplicates == 1


async def test_handler_sees_its_event_correlation_id_in_log_context() -> None:
    from engine.logs.context import current_correlation_id

    bus = MemoryBus(partitions=1)
    seen: list[str | None] = []

    async def capture(envelope: EventEnvelope, out: Emitter) -> None:
        seen.append(current_correlation_id())

    proc = Probe(bus, on_event=capture)
    task = asyncio.create_task(proc.run())
    env = event(1)
    await bus.publish("in", env)
    await eventually(lambda: seen)
    await stop_and_wait(proc, task)

    assert seen == [env.correlation_id]
    assert current_correlation_id() is None


async def test_consume_produce_commit_logs_carry_topic_key_event_and_correlation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="alphapanda")
    bus = MemoryBus(partitions=1)

    async def forward(envelope: EventEnvelope, out: Emitter) -> None:
        out.emit("out", EventType.MARKET_TICK, envelope.data, key=envelope.key)

    proc = Probe(bus, on_event=forward)
    task = asyncio.create_task(proc.run())
    env = event(1, key="NSE:INFY")
    await bus.publish("in", env)
    await eventually(lambda: bus.total_lag() == 0 and proc.stats.commits == 1)
    await stop_and_wait(proc, task)

    by_message = {r.getMessage(): r for r in caplog.records}
    for message, topic in (("consume", "in"), ("produce", "out"), ("commit", "in")):
        record = by_message[message]
        assert record.topic == topic  # type: ignore[attr-defined]
        assert record.key == "NSE:INFY"  # type: ignore[attr-defined]
        assert record.event_id  # type: ignore[attr-defined]
        assert record.correlation_id == env.correlation_id  # type: ignore[attr-defined]
    assert by_message["consume"].event_id == env.id  # type: ignore[attr-defined]
    assert {
        "consumer started: probe (group probe) on in",
        "consumer stopped: probe (group probe)",
    } <= set(by_message)


async def test_health_reports_lag_processed_and_status() -> None:
    bus = MemoryBus(partitions=1)
    gate = asyncio.Event()

    async def wait_for_gate(envelope: EventEnvelope, out: Emitter) -> None:
        await gate.wait()

    proc = Probe(bus, on_event=wait_for_gate)
    assert proc.health().status is ComponentStatus.STOPPED
    task = asyncio.create_task(proc.run())
    for n in range(3):
        await bus.publish("in", event(n))
    await eventually(lambda: len(proc.calls) == 1)

    health = proc.health()
    assert health.status is ComponentStatus.RUNNING
    assert health.lag == 3
    gate.set()
    await eventually(lambda: proc.health().processed == 3 and proc.health().lag == 0)
    await stop_and_wait(proc, task)
    assert proc.health().status is ComponentStatus.STOPPED
    assert FAST.batch_size == 64  # the shared test config stays small and fast


class LaterAckBus(MemoryBus):
    """A bus that acknowledges outputs only when flushed (as Kafka does)."""

    durable_on_publish = False


@pytest.mark.parametrize(("bus_type", "duplicates"), [(MemoryBus, 10), (LaterAckBus, 0)])
async def test_after_a_crash_only_a_later_ack_bus_handles_uncommitted_records_again(
    bus_type: type[MemoryBus], duplicates: int
) -> None:
    """Outputs published on a later-ack bus may have been lost with the crash (a failed
    flush): the uncommitted records run again instead of being skipped as seen."""
    bus = bus_type(partitions=1)
    events = [event(n) for n in range(10)]
    for env in events:
        await bus.publish("in", env)
    proc = Probe(bus)
    real_commit_calls = 0
    subscribe = bus.subscribe

    async def subscribe_failing_first_commit(*args, **kwargs):  # type: ignore[no-untyped-def]
        sub = await subscribe(*args, **kwargs)
        commit = sub.commit

        async def failing_commit(records):  # type: ignore[no-untyped-def]
            nonlocal real_commit_calls
            real_commit_calls += 1
            if real_commit_calls == 1:
                raise ConnectionError("flush failed: outputs not acknowledged")
            await commit(records)

        sub.commit = failing_commit  # type: ignore[method-assign]
        return sub

    bus.subscribe = subscribe_failing_first_commit  # type: ignore[method-assign]
    supervisor = Supervisor([proc], restart_delay=0.01)
    supervisor.start()
    await eventually(lambda: bus.total_lag() == 0 and real_commit_calls >= 2)
    await supervisor.stop()

    assert supervisor.restarts["probe"] == 1
    assert proc.stats.duplicates == duplicates
    assert sorted(set(seq(e) for e in proc.handled)) == list(range(10))
