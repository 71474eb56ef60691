"""The persisted dedup window: seen / mark / prune, per consumer group."""

from __future__ import annotations

from engine.clock import ManualClock
from storage.store import SqlTradingStore


async def test_mark_then_seen_per_group(store: SqlTradingStore) -> None:
    await store.mark("risk", "evt-1")
    await store.mark("risk", "evt-1")  # redelivered mark is harmless

    assert await store.seen("risk", "evt-1")
    assert not await store.seen("portfolio", "evt-1")
    assert not await store.seen("risk", "evt-2")


async def test_prune_drops_only_marks_older_than_the_window(
    store: SqlTradingStore, clock: ManualClock
) -> None:
    await store.mark("risk", "old-1")
    await store.mark("portfolio", "old-2")
    clock.advance(3600)
    cutoff = clock.now_ns()
    await store.mark("risk", "fresh")

    assert await store.prune(keep_after_ts=cutoff) == 2

    assert not await store.seen("risk", "old-1")
    assert not await store.seen("portfolio", "old-2")
    assert await store.seen("risk", "fresh")
    assert await store.prune(keep_after_ts=cutoff) == 0
