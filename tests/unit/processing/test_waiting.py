"""A stoppable loop's sleep ends the moment it is stopped, not after the full wait."""

from __future__ import annotations

import asyncio

from engine.waiting import set_within


async def test_a_stop_during_a_long_wait_ends_it_at_once() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    loop.call_later(0.01, stop.set)

    assert await set_within(stop, 30.0) is True
    assert loop.time() - started < 5.0


async def test_a_wait_nobody_ends_runs_out() -> None:
    assert await set_within(asyncio.Event(), 0.01) is False


async def test_an_event_already_set_does_not_wait() -> None:
    stop = asyncio.Event()
    stop.set()

    assert await set_within(stop, 30.0) is True
