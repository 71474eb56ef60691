"""``processed_events`` stays bounded: the pruner deletes old ids on a schedule, keeps new ones."""

from __future__ import annotations

import asyncio

from engine.clock import ManualClock
from engine.processing.retention import ProcessedIdsPruner
from storage.store import SqlTradingStore
from tests.helpers import eventually

DAY_S = 86_400


async def test_a_day_old_id_goes_and_a_recent_one_stays(
    store: SqlTradingStore, clock: ManualClock
) -> None:
    await store.mark("risk", "yesterday")
    clock.advance(DAY_S - 60)
    await store.mark("portfolio", "a-minute-short-of-a-day")
    clock.advance(120)  # "yesterday" is now a day and a minute old
    pruner = ProcessedIdsPruner(store=store, retention_s=DAY_S, clock=clock)

    assert await pruner.prune_once() == 1

    assert not await store.seen("risk", "yesterday")
    assert await store.seen("portfolio", "a-minute-short-of-a-day")


async def test_the_running_service_prunes_at_start_and_again_on_its_schedule(
    store: SqlTradingStore, clock: ManualClock
) -> None:
    await store.mark("risk", "old")
    clock.advance(2 * DAY_S)
    pruner = ProcessedIdsPruner(store=store, retention_s=DAY_S, interval_s=0.05, clock=clock)
    task = asyncio.create_task(pruner.run())
    try:
        await eventually(lambda: pruner.pruned == 1)
        assert not await store.seen("risk", "old")
        await store.mark("risk", "later")
        clock.advance(2 * DAY_S)
        await eventually(lambda: pruner.pruned == 2)  # the next round, without a restart
        assert not await store.seen("risk", "later")
    finally:
        pruner.stop()
        await task
