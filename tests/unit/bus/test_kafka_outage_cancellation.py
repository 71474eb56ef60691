"""A cancellation aiokafka lets out while the cluster is gone is not taken for a crash."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaTimeoutError

from engine.bus.kafka.group import stop_consumer
from engine.bus.kafka.lease import _failure_of
from engine.bus.kafka.producer import OutputLostError
from engine.bus.kafka.unreachable import is_unreachable


class CancelOnStop:
    """A consumer whose ``stop()`` lets a pending fetch's cancellation out (aiokafka's
    fetcher does so for a request in its retry back-off)."""

    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True
        raise asyncio.CancelledError


async def test_stop_consumer_keeps_a_stray_cancellation_in() -> None:
    consumer = CancelOnStop()
    await stop_consumer(cast(Any, consumer))
    assert consumer.stopped


async def test_stop_consumer_lets_its_callers_own_cancellation_out() -> None:
    started = asyncio.Event()

    class Slow(CancelOnStop):
        async def stop(self) -> None:
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(stop_consumer(cast(Any, Slow())))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_inner_service_cancelled_while_closing_after_an_outage_tells_so() -> None:
    async def processor_run() -> None:
        try:
            raise OutputLostError("not acknowledged") from KafkaTimeoutError()
        finally:
            raise asyncio.CancelledError  # sub.aclose() -> consumer.stop() in the clean-up

    task = asyncio.create_task(processor_run())
    await asyncio.wait([task])
    assert task.cancelled()
    failure = _failure_of(task)
    leased = RuntimeError("risk.paper stopped while holding its lease")
    leased.__cause__ = failure
    assert is_unreachable(leased)
