"""Restarting the paper engine on the same database: the simulated clock carries on and
the rebuilt book has exactly the figures the live book had (issue 12.1)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import load_settings
from engine.portfolio.book import PortfolioBook
from storage.store import SqlTradingStore
from tests.helpers import eventually
from tests.integration.support import BROKER, settings_overrides

CASH = Decimal("1000000")


async def _run_until_fills(settings, at_least: int) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        assert runtime.pipeline is not None
        store = runtime.pipeline.store

        async def enough() -> bool:
            return len(await store.list_fills(BROKER)) >= at_least

        await eventually(enough, timeout=20, interval=0.1, message=f"{at_least} fills")
    finally:
        await runtime.stop()


async def test_a_restart_continues_the_simulated_clock_and_keeps_every_figure(
    isolated_home: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{isolated_home / 'restart.db'}"
    settings = load_settings(
        **settings_overrides(
            isolated_home,
            database={"url": url},
            portfolio={"snapshot_interval_s": 0.3, "starting_cash": CASH},
        )
    )
    await _run_until_fills(settings, 3)
    async with await SqlTradingStore.open(url) as store:
        before = await store.list_fills(BROKER)
        stopped = await store.latest_pnl_snapshot(BROKER)
    assert stopped is not None

    await _run_until_fills(settings, len(before) + 3)
    async with await SqlTradingStore.open(url) as store:
        after = await store.list_fills(BROKER)
        final = await store.latest_pnl_snapshot(BROKER)
    assert final is not None

    # The journal keeps the first run's fills first, and the second run's fills are all
    # later in event time: the simulated market did not rewind to the session's open.
    assert after[: len(before)] == before
    last_before = max(f.fill_ts for f in before)
    assert all(f.fill_ts > last_before for f in after[len(before) :])
    # Replaying the journal gives what each live run reported when it stopped.
    for fills, snapshot in ((before, stopped), (after, final)):
        book = PortfolioBook(BROKER, CASH)
        book.rebuild(fills)
        assert (book.realized_pnl, book.cash) == (snapshot.realized_pnl, snapshot.cash)
