"""The one periodic-service loop: rounds at the interval, stop and wake at once,
a failing round logged and survived (or left to the supervisor), restartable."""

from __future__ import annotations

import asyncio
import logging

import pytest

from engine.periodic import PeriodicService
from tests.helpers import eventually


class Counter(PeriodicService):
    def __init__(self, interval_s: float, fail_first: int = 0) -> None:
        super().__init__("counter", interval_s)
        self.rounds = 0
        self.fail_first = fail_first

    async def run_once(self) -> None:
        self.rounds += 1
        if self.rounds <= self.fail_first:
            raise RuntimeError("round failed")


class Survivor(Counter):
    round_failed = "counter round failed"


async def test_stop_ends_a_long_wait_at_once_and_a_later_run_starts_again() -> None:
    service = Counter(interval_s=3600)
    task = asyncio.create_task(service.run())
    await eventually(lambda: service.rounds == 1)

    service.stop()
    await asyncio.wait_for(task, 1)  # not an hour

    task = asyncio.create_task(service.run())
    await eventually(lambda: service.rounds == 2)
    service.stop()
    await asyncio.wait_for(task, 1)


async def test_wake_starts_the_next_round_now() -> None:
    service = Counter(interval_s=3600)
    task = asyncio.create_task(service.run())
    await eventually(lambda: service.rounds == 1)

    service.wake()
    await eventually(lambda: service.rounds == 2, timeout=1)
    service.stop()
    await asyncio.wait_for(task, 1)


async def test_rounds_repeat_at_the_interval() -> None:
    service = Counter(interval_s=0.01)
    task = asyncio.create_task(service.run())
    await eventually(lambda: service.rounds >= 5, timeout=2)
    service.stop()
    await asyncio.wait_for(task, 1)


async def test_a_failing_round_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = Survivor(interval_s=0.01, fail_first=2)
    task = asyncio.create_task(service.run())
    await eventually(lambda: service.rounds >= 3, timeout=2)
    service.stop()
    await asyncio.wait_for(task, 1)

    failures = [r for r in caplog.records if r.getMessage() == "counter round failed"]
    assert len(failures) == 2 and all(r.levelno == logging.ERROR for r in failures)


async def test_without_a_failure_message_a_failing_round_ends_run_for_the_supervisor() -> None:
    service = Counter(interval_s=0.01, fail_first=1)
    with pytest.raises(RuntimeError, match="round failed"):
        await asyncio.wait_for(service.run(), 1)
    assert service.rounds == 1
