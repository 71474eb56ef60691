"""The circuit breaker pauses a failing processor; the supervisor restarts crashed services."""

from __future__ import annotations

import asyncio
import logging
import math

import pytest

from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.processing import (
    BreakerConfig,
    BreakerState,
    CircuitBreaker,
    Emitter,
    ProcessorConfig,
    RetryPolicy,
    Supervisor,
)
from tests.helpers import eventually
from tests.unit.processing.support import Probe, event, stop_and_wait


async def always_fail(envelope: EventEnvelope, out: Emitter) -> None:
    raise RuntimeError("broker API 503")


async def test_breaker_bounds_handler_calls_and_reports_paused() -> None:
    threshold, cooldown, duration = 3, 0.3, 1.5
    config = ProcessorConfig(
        retry=RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002),
        breaker=BreakerConfig(
            failure_threshold=threshold, cooldown=cooldown, max_cooldown=cooldown
        ),
        poll_timeout=0.02,
    )
    bus = MemoryBus(partitions=1)
    for n in range(500):
        await bus.publish("in", event(n))
    proc = Probe(bus, config=config, on_event=always_fail)
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.health().status is ComponentStatus.PAUSED, timeout=1)
    assert proc.health().detail == "breaker open"
    await asyncio.sleep(duration)
    await stop_and_wait(proc, task)

    # threshold calls to open, then one half-open probe per cooldown: far from a tight loop
    bound = threshold + math.ceil(duration / cooldown) + 2
    assert threshold <= len(proc.calls) <= bound
    assert proc.breaker.opened_count >= 2


async def test_half_open_breaker_closes_after_a_success() -> None:
    calls = {"n": 0}

    async def recover_on_fourth(envelope: EventEnvelope, out: Emitter) -> None:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise RuntimeError("flaky")

    config = ProcessorConfig(
        retry=RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.002),
        breaker=BreakerConfig(failure_threshold=3, cooldown=0.1, max_cooldown=0.1),
        poll_timeout=0.02,
    )
    bus = MemoryBus(partitions=1)
    proc = Probe(bus, config=config, on_event=recover_on_fourth)
    await bus.publish("in", event(1))
    task = asyncio.create_task(proc.run())

    await eventually(lambda: proc.stats.processed == 1)
    assert proc.breaker.state is BreakerState.CLOSED
    assert proc.breaker.opened_count == 1
    assert proc.health().status is ComponentStatus.RUNNING
    await stop_and_wait(proc, task)
    assert proc.stats.dead_lettered == 0


def test_breaker_cooldown_doubles_while_half_open_probes_fail() -> None:
    now = [0.0]
    breaker = CircuitBreaker(
        BreakerConfig(failure_threshold=2, cooldown=1.0, max_cooldown=3.0), lambda: now[0]
    )
    breaker.record_failure()
    assert breaker.remaining() == 0
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and breaker.remaining() == pytest.approx(1.0)

    pauses = []
    for _ in range(3):
        now[0] += breaker.remaining()
        assert breaker.remaining() == 0 and breaker.state is BreakerState.HALF_OPEN
        breaker.record_failure()
        pauses.append(breaker.remaining())
    assert pauses == [2.0, 3.0, 3.0]

    now[0] += 3.0
    breaker.remaining()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.failures == 0


class Crashy:
    """A service that crashes on its first runs, then runs until stopped."""

    def __init__(self, crashes: int, exc: BaseException) -> None:
        self.name = "crashy"
        self.crashes = crashes
        self.exc = exc
        self.runs = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            raise self.exc
        await self._stop.wait()

    def stop(self) -> None:
        self._stop.set()

    def health(self) -> ComponentHealth:
        return ComponentHealth(name=self.name, status=ComponentStatus.RUNNING)


async def test_supervisor_restarts_a_crashed_service_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = Crashy(crashes=2, exc=RuntimeError("feed socket closed"))
    supervisor = Supervisor([service], restart_delay=0.01)

    supervisor.start()
    await eventually(lambda: service.runs == 3)
    await supervisor.stop()

    assert supervisor.restarts["crashy"] == 2
    crash_logs = [r for r in caplog.records if r.getMessage() == "service crashed; restarting"]
    assert len(crash_logs) == 2 and crash_logs[0].exc_info
    assert supervisor.health()[0].name == "crashy"
    assert supervisor.tasks["crashy"].done()


async def test_supervisor_treats_a_stray_cancelled_error_as_a_crash() -> None:
    service = Crashy(crashes=1, exc=asyncio.CancelledError())
    supervisor = Supervisor([service], restart_delay=0.01)

    supervisor.start()
    await eventually(lambda: service.runs == 2)
    await supervisor.stop()

    assert supervisor.restarts["crashy"] == 1


async def test_supervisor_stop_during_a_restart_delay_returns_promptly() -> None:
    service = Crashy(crashes=1, exc=RuntimeError("boom"))
    supervisor = Supervisor([service], restart_delay=30)
    supervisor.start()
    await eventually(lambda: supervisor.restarts["crashy"] == 1)

    await asyncio.wait_for(supervisor.stop(), 1)

    assert service.runs == 1


async def test_supervisor_stops_processors_in_order_and_each_drains(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="alphapanda")
    bus = MemoryBus(partitions=1)
    first, second = Probe(bus, name="first"), Probe(bus, ["other"], name="second")
    supervisor = Supervisor([first, second])
    supervisor.start()
    await bus.publish("in", event(1))
    await eventually(lambda: first.stats.processed == 1)

    await supervisor.stop()

    stopped = [r.processor for r in caplog.records if r.getMessage().startswith("consumer stopped")]  # type: ignore[attr-defined]
    assert stopped == ["first", "second"]
    assert [h.status for h in supervisor.health()] == [ComponentStatus.STOPPED] * 2


async def test_stop_before_the_task_starts_does_not_hang() -> None:
    bus = MemoryBus(partitions=1)
    proc = Probe(bus)
    supervisor = Supervisor([proc])
    supervisor.start()

    await asyncio.wait_for(supervisor.stop(timeout=5), 1)

    assert supervisor.tasks["probe"].done()
