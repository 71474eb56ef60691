"""A service that keeps crashing is reported as failed, not "running" forever."""

from __future__ import annotations

import asyncio

from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.processing import Supervisor


class Flaky:
    """Crashes on its first ``crashes`` runs (each after ``run_s``), then runs until stopped."""

    def __init__(self, crashes: int, run_s: float = 0.0, name: str = "execution.paper") -> None:
        self.name = name
        self.crashes = crashes
        self.run_s = run_s
        self.runs = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            await asyncio.sleep(self.run_s)
            raise RuntimeError(f"database disk image is malformed\n[SQL: SELECT {self.runs}]")
        await self._stop.wait()

    def stop(self) -> None:
        self._stop.set()

    def health(self) -> ComponentHealth:
        return ComponentHealth(name=self.name, status=ComponentStatus.RUNNING)


async def test_a_crash_loop_is_reported_with_the_service_and_the_cause() -> None:
    service = Flaky(crashes=100)
    supervisor = Supervisor([service], restart_delay=0.001, max_restarts=3)
    supervisor.start()
    failure = await asyncio.wait_for(supervisor.wait_failed(), 5)
    await supervisor.stop()

    assert failure.service == "execution.paper" and failure.crashes == 4
    assert failure.cause == "RuntimeError: database disk image is malformed"
    assert failure.describe() == (
        "service execution.paper crashed 4 times in a row: "
        "RuntimeError: database disk image is malformed"
    )
    assert service.runs == 4


async def test_crashes_up_to_the_bound_are_only_restarts() -> None:
    service = Flaky(crashes=3)
    supervisor = Supervisor([service], restart_delay=0.001, max_restarts=3)
    supervisor.start()
    while service.runs < 4:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)
    await supervisor.stop()
    assert supervisor.failure is None and supervisor.restarts["execution.paper"] == 3


async def test_runs_that_last_are_not_a_loop() -> None:
    """Crashes spaced by healthy runs (a broker blip a day) never add up to a failure."""
    service = Flaky(crashes=8, run_s=0.03)
    supervisor = Supervisor([service], restart_delay=0.001, max_restarts=2, healthy_after_s=0.02)
    supervisor.start()
    while service.runs < 9:
        await asyncio.sleep(0.005)
    await supervisor.stop()
    assert supervisor.failure is None and supervisor.restarts["execution.paper"] == 8
