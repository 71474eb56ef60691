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
    clock.advance(120)
    await store.mark("portfolio", "a-minute-short-of-a-day")  # a day less a minute from now
    clock.advance(DAY_S - 60)
    await store.mark("risk", "now")
    pruner = ProcessedIdsPruner(store=store, retention_s=DAY_S, clock=clock)

    assert await pruner.prune_once() == 1

    assert not await store.seen("risk", "yesterday")
    assert await store.seen("portfolio", "a-minute-short-of-a-day")
    assert await store.seen("risk", "now")


async def test_downtime_does_not_age_the_ids_a_redelivery_needs(
    store: SqlTradingStore, clock: ManualClock
) -> None:
    """Friday's last effects must still be recognised when Monday's start redelivers them."""
    await store.mark("execution", "friday-last-fill")
    clock.advance(3 * DAY_S)  # the engine was down over the weekend
    pruner = ProcessedIdsPruner(store=store, retention_s=DAY_S, clock=clock)

    assert await pruner.prune_once() == 0

    assert await store.seen("execution", "friday-last-fill")


async def test_the_running_service_prunes_at_start_and_again_on_its_schedule(
    store: SqlTradingStore, clock: ManualClock
) -> None:
    await store.mark("risk", "old")
    clock.advance(2 * DAY_S)
    await store.mark("risk", "later")
    pruner = ProcessedIdsPruner(store=store, retention_s=DAY_S, interval_s=0.05, clock=clock)
    task = asyncio.create_task(pruner.run())
    try:
        await eventually(lambda: pruner.pruned == 1)
        assert not await store.seen("risk", "old")
        clock.advance(2 * DAY_S)
        await store.mark("risk", "latest")
        await eventually(lambda: pruner.pruned == 2)  # the next round, without a restart
        assert not await store.seen("risk", "later")
        assert await store.seen("risk", "latest")
    finally:
        pruner.stop()
        await task
