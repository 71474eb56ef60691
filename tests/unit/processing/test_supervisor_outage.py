"""A broker outage is waited out: the engine keeps running, shows DEGRADED, never stops.

Seen in QA: with the Kafka broker down for more than ~16-36 s a service crash-looped
(five failures in a row at 0.5-8 s back-off) and the supervisor stopped the engine.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

from engine.bus.kafka.producer import OutputLostError
from engine.bus.kafka.security import BusUnavailableError
from engine.bus.kafka.unreachable import is_unreachable
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.processing import Supervisor
from engine.processing.outage import Outages
from tests.helpers import eventually


def _lost_output() -> OutputLostError:
    """What a processor's fetch raises once an output went unacknowledged (broker gone)."""
    try:
        raise KafkaTimeoutError("batch expired")
    except KafkaTimeoutError as timeout:
        try:
            raise OutputLostError("a message sent to the cluster was not acknowledged") from timeout
        except OutputLostError as lost:
            return lost


def _cannot_reach() -> BusUnavailableError:
    """What its restart's subscribe raises while the broker is still gone."""
    try:
        raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]")
    except KafkaConnectionError as refused:
        try:
            raise BusUnavailableError("cannot reach the Kafka cluster at 127.0.0.1:9092") from (
                refused
            )
        except BusUnavailableError as unavailable:
            return unavailable


class BrokerBound:
    """Fails on its first runs as a Kafka processor does while the broker is down, then
    consumes until stopped; reports RUNNING only while consuming (as a processor does)."""

    def __init__(self, failures: Sequence[BaseException], name: str = "risk.paper") -> None:
        self.name = name
        self.failures = failures
        self.runs = 0
        self.status = ComponentStatus.STOPPED
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= len(self.failures):
            raise self.failures[self.runs - 1]
        self.status = ComponentStatus.RUNNING
        try:
            await self._stop.wait()
        finally:
            self.status = ComponentStatus.STOPPED

    def stop(self) -> None:
        self._stop.set()

    def health(self) -> ComponentHealth:
        return ComponentHealth(name=self.name, status=self.status, detail="breaker closed")


def _supervisor(service: BrokerBound) -> Supervisor:
    return Supervisor(
        [service],
        restart_delay=0.001,
        max_restarts=3,
        is_outage=is_unreachable,
        outages=Outages(first_delay=0.001, max_delay=0.02, confirm_s=0.05),
    )


async def test_an_outage_longer_than_the_crash_limit_is_waited_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = [_lost_output()] + [_cannot_reach() for _ in range(7)]  # 8 > max_restarts
    service = BrokerBound(outage)
    supervisor = _supervisor(service)
    seen: list[ComponentHealth] = []

    async def watch() -> None:
        while True:
            seen.append(supervisor.health()[0])
            await asyncio.sleep(0.001)

    caplog.set_level(logging.INFO, "alphapanda.processing")
    watcher = asyncio.create_task(watch())
    supervisor.start()
    await eventually(lambda: service.runs == 9, timeout=5, message="never restarted")
    await eventually(
        lambda: supervisor.health()[0].status is ComponentStatus.RUNNING,
        timeout=5,
        message="never shown running again",
    )
    watcher.cancel()
    await supervisor.stop()

    assert supervisor.failure is None
    assert not supervisor._failed.is_set()
    assert supervisor.restarts["risk.paper"] == 0  # the crash counter is untouched
    assert supervisor.outages.restarts["risk.paper"] == 8
    degraded = [h for h in seen if h.status is ComponentStatus.DEGRADED]
    assert degraded, "never shown degraded"
    assert re.fullmatch(r"broker unreachable since \d\d:\d\d:\d\d", degraded[0].detail)
    assert {h.detail for h in degraded} == {degraded[0].detail}  # one outage, one start
    first_running = next(i for i, h in enumerate(seen) if h.status is ComponentStatus.RUNNING)
    assert seen.index(degraded[0]) < first_running
    assert all(h.status is not ComponentStatus.DEGRADED for h in seen[first_running:])
    steps = [r for r in caplog.records if "broker unreachable since" in r.getMessage()]
    assert len(steps) == 8 and all(r.exc_info is None for r in steps)
    assert "retrying in" in steps[0].getMessage() and "(attempt 1)" in steps[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info is not None]  # no traceback
    assert any("broker reachable again" in r.getMessage() for r in caplog.records)


async def test_a_real_crash_still_stops_after_the_limit() -> None:
    crash = RuntimeError("database disk image is malformed")
    service = BrokerBound([crash] * 100)
    supervisor = _supervisor(service)
    supervisor.start()
    failure = await asyncio.wait_for(supervisor.wait_failed(), 5)
    await supervisor.stop()

    assert (
        failure.crashes == 4 and failure.cause == "RuntimeError: database disk image is malformed"
    )
    assert supervisor.outages.restarts == {}


async def test_outages_between_crashes_neither_add_nor_forgive_crashes() -> None:
    """crash, outage, crash, outage, ...: the crashes in a row still reach the limit."""
    crash = RuntimeError("handler bug")
    failures: list[BaseException] = []
    for _ in range(10):
        failures += [crash, _cannot_reach()]
    service = BrokerBound(failures)
    supervisor = _supervisor(service)
    supervisor.start()
    failure = await asyncio.wait_for(supervisor.wait_failed(), 5)
    await supervisor.stop()

    assert failure.crashes == 4 and failure.cause == "RuntimeError: handler bug"
    assert supervisor.outages.restarts["risk.paper"] == 3


async def test_a_stop_during_the_outage_back_off_returns_at_once() -> None:
    service = BrokerBound([_cannot_reach() for _ in range(100)])
    supervisor = Supervisor([service], restart_delay=10.0, is_outage=is_unreachable)
    supervisor.start()
    await eventually(lambda: service.runs == 1)
    await asyncio.wait_for(supervisor.stop(), 1)
    assert supervisor.failure is None and service.runs == 1


def test_only_failures_to_reach_the_cluster_are_outages() -> None:
    from aiokafka.errors import MessageSizeTooLargeError, UnknownError

    def chained(outer: BaseException, cause: BaseException) -> BaseException:
        outer.__cause__ = cause
        return outer

    leased = chained(RuntimeError("risk stopped while holding its lease"), _lost_output())
    assert is_unreachable(_lost_output())
    assert is_unreachable(_cannot_reach())
    assert is_unreachable(leased)
    assert is_unreachable(chained(BusUnavailableError("cannot reach"), ConnectionRefusedError()))
    too_large = chained(OutputLostError("not acknowledged"), MessageSizeTooLargeError())
    assert not is_unreachable(too_large)
    assert not is_unreachable(chained(BusUnavailableError("refused a producer"), UnknownError()))
    assert not is_unreachable(RuntimeError("database disk image is malformed"))
    assert not is_unreachable(ConnectionRefusedError("postgres"))


async def test_a_cancellation_while_closing_after_the_outage_is_the_outage() -> None:
    """aiokafka's consumer.stop() re-raises a fetch task's cancellation while a processor
    closes after an OutputLostError (seen under the real broker): not a crash."""
    closing = asyncio.CancelledError()
    closing.__context__ = _lost_output()
    service = BrokerBound([closing] * 8)
    supervisor = _supervisor(service)
    supervisor.start()
    await eventually(lambda: supervisor.health()[0].status is ComponentStatus.RUNNING, timeout=5)
    await supervisor.stop()

    assert supervisor.failure is None and supervisor.restarts["risk.paper"] == 0
    assert supervisor.outages.restarts["risk.paper"] == 8


async def test_a_bare_cancellation_inside_the_service_is_still_a_crash() -> None:
    service = BrokerBound([asyncio.CancelledError() for _ in range(100)])
    supervisor = _supervisor(service)
    supervisor.start()
    failure = await asyncio.wait_for(supervisor.wait_failed(), 5)
    await supervisor.stop()
    assert failure.cause == "CancelledError raised inside the service"
