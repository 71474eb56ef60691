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


async def test_the_simulated_market_resumes_after_the_latest_fill_not_only_the_newest_order(
    isolated_home: Path,
) -> None:
    """Seen after a SIGKILL: the newest order (still open) was placed in the round before
    an older order's fill; resuming after the newest order replayed the fill's round
    with other prices, so one moment had two market prices."""
    from alphapanda_tui.runtime import Ports
    from engine.bus.memory import MemoryBus
    from engine.events.types import OrderStatus
    from engine.memory_store import MemoryTradingStore
    from tests.storage.factories import NS, T0, make_fill, make_order

    settings = load_settings(**settings_overrides(isolated_home))
    store = MemoryTradingStore()
    filled = make_order("AP1", status=OrderStatus.FILLED, filled_quantity=10, updated_ts=T0 + NS)
    await store.insert_order(make_order("AP1"))
    await store.apply_execution(filled, make_fill("T1", client_order_id="AP1", fill_ts=T0 + NS))
    await store.insert_order(make_order("AP2", status=OrderStatus.OPEN))  # same round, open

    runtime = build_runtime(settings)
    resume = await runtime._last_event_ts(Ports(bus=MemoryBus(), store=store))

    assert resume == T0 + NS


async def test_the_simulated_market_resumes_after_the_latest_snapshot_of_a_day_without_fills(
    isolated_home: Path,
) -> None:
    """Seen in QA (SIGKILL and restart over Kafka): the engine had been HALTED since the
    8th, its last fill the 15:20 square-off that day, while the market ran on to the 17th.
    The restart resumed after that fill: the simulated market went back to the 9th, and
    the consoles kept their clock at 17 Dec 12:04:18 beside prices of the 9th to the 11th.
    The portfolio's latest snapshot knows the market's time it had reached (event_ts)."""
    from alphapanda_tui.runtime import Ports
    from engine.bus.memory import MemoryBus
    from engine.domain.records import PnlSnapshotRecord
    from engine.events.types import OrderStatus
    from engine.memory_store import MemoryTradingStore
    from tests.storage.factories import NS, T0, make_fill, make_order

    settings = load_settings(**settings_overrides(isolated_home))
    store = MemoryTradingStore()
    filled = make_order("AP1", status=OrderStatus.FILLED, filled_quantity=10, updated_ts=T0 + NS)
    await store.insert_order(make_order("AP1"))
    await store.apply_execution(filled, make_fill("T1", client_order_id="AP1", fill_ts=T0 + NS))
    nine_days_on = T0 + 9 * 86_400 * NS
    zero = Decimal("0")
    await store.add_pnl_snapshot(
        PnlSnapshotRecord(
            broker=BROKER,
            snapshot_ts=T0 + 600 * NS,  # the process's own clock
            realized_pnl=zero,
            unrealized_pnl=zero,
            charges=zero,
            cash=CASH,
            equity=CASH,
            gross_exposure=zero,
            event_ts=nine_days_on,
        )
    )

    runtime = build_runtime(settings)
    resume = await runtime._last_event_ts(Ports(bus=MemoryBus(), store=store))

    assert resume == nine_days_on
