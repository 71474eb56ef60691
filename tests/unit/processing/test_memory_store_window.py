"""The in-memory store's processed-id window: bounded, oldest forgotten first."""

from __future__ import annotations

from engine.memory_store import MemoryTradingStore


async def test_processed_window_keeps_the_newest_and_forgets_the_oldest() -> None:
    store = MemoryTradingStore(processed_window=3)
    for n in range(5):
        await store.mark("g", f"e{n}")

    assert [await store.seen("g", f"e{n}") for n in range(5)] == [False, False, True, True, True]
    assert not await store.seen("other", "e4")  # per group


async def test_marking_an_id_again_keeps_its_place() -> None:
    store = MemoryTradingStore(processed_window=2)
    await store.mark("g", "a")
    await store.mark("g", "b")
    await store.mark("g", "a")  # already there: not counted twice, not moved
    await store.mark("g", "c")

    assert not await store.seen("g", "a")
    assert await store.seen("g", "b") and await store.seen("g", "c")
