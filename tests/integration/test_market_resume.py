"""A restart on the same home carries the simulated market on where it stood: its clock,
each instrument's last price and the day's previous close, so no money figure moves
across the restart unless the market moves.

Seen in QA: the clock went back to the last fill (10:09 before, 10:08 after) and the
prices and previous closes started again from the bundled defaults (TCS's close 3,400.50
before, 3,450.00 after), so the positions' P&L, the Day P&L and the equity jumped.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from alphapanda_tui.market_resume import market_left
from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import Settings, load_settings
from alphapanda_tui.tick_store import last_recorded_ticks
from engine.domain.records import PnlSnapshotRecord
from engine.market.sessions import TradingDays
from engine.pipeline import SERVICE_NAMES
from engine.portfolio.marks import read_marks
from storage.store import SqlTradingStore
from tests.helpers import eventually
from tests.integration.support import BROKER, EngineProcess, SqliteDb, poll, settings_overrides

NO_FEED = [name for name in SERVICE_NAMES if name != "feed"]


def _settings(home: Path) -> Settings:
    return load_settings(**settings_overrides(home, portfolio={"snapshot_interval_s": 0.3}))


def _figures(snapshot: Any) -> tuple[Any, ...]:
    """Every money figure a trader reads, with the snapshot's market time and day."""
    return (
        snapshot.event_ts,
        snapshot.trading_day,
        snapshot.realized_pnl,
        snapshot.unrealized_pnl,
        snapshot.charges,
        snapshot.cash,
        snapshot.equity,
        snapshot.gross_exposure,
        snapshot.day_realized_pnl,
        snapshot.day_unrealized_pnl,
        snapshot.day_charges,
    )


async def _latest(settings: Settings) -> PnlSnapshotRecord:
    async with await SqlTradingStore.open(settings.database.url or "") as store:
        snapshot = await store.latest_pnl_snapshot(BROKER)
    assert snapshot is not None
    return snapshot


async def _run_until_positions_open(settings: Settings) -> None:
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        assert runtime.pipeline is not None
        store = runtime.pipeline.store

        async def carried_and_open() -> bool:
            positions = await store.list_positions(BROKER)
            return len(await store.list_fills(BROKER)) >= 4 and any(
                p.net_quantity for p in positions
            )

        await eventually(carried_and_open, timeout=30, interval=0.1, message="open positions")
    finally:
        await runtime.stop()


async def _first_figures_without_ticks(
    settings: Settings, stopped: PnlSnapshotRecord
) -> tuple[tuple[Any, ...], PnlSnapshotRecord]:
    """The engine restarted with no feed: the console's clock, Day P&L and equity as the
    read model is seeded, and the portfolio's first snapshot (marked with nothing but
    what the home had stored)."""
    runtime = build_runtime(settings, services=NO_FEED)
    await runtime.start()
    try:
        assert runtime.pipeline is not None
        store = runtime.pipeline.store
        model = runtime.read_model
        await eventually(lambda: model.pnl is not None, timeout=10, message="seeded P&L")
        seeded = (model.event_ns, model.account().day_pnl, model.account().equity)
        for view in model.position_views():
            assert view.last_price is not None  # marked, not valued at cost

        async def newer() -> bool:
            latest = await store.latest_pnl_snapshot(BROKER)
            return latest is not None and latest.snapshot_ts > stopped.snapshot_ts

        await eventually(newer, timeout=10, interval=0.05, message="a snapshot after restart")
        first = await store.latest_pnl_snapshot(BROKER)
        assert first is not None
    finally:
        await runtime.stop()
    return seeded, first


async def _first_ticks_after(settings: Settings, stopped: PnlSnapshotRecord) -> None:
    """The feed resumes after the stopped snapshot's time with its previous closes."""
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        model = runtime.read_model
        await eventually(lambda: model.ticks_seen >= 3, timeout=10, message="the first round")
        first_ns = model.event_ns
        closes = dict(model.closes)
    finally:
        await runtime.stop()
    assert first_ns is not None and first_ns > stopped.event_ts  # never earlier
    days = TradingDays(model.clock.calendar)
    if days.window(first_ns).label == stopped.trading_day:  # the session goes on
        _, stored_closes = read_marks(stopped.marks)
        assert closes == stored_closes


async def test_a_stopped_and_restarted_engine_shows_the_same_figures(isolated_home: Path) -> None:
    settings = _settings(isolated_home)
    await _run_until_positions_open(settings)
    stopped = await _latest(settings)
    marks, closes = read_marks(stopped.marks)
    assert len(marks) == 3 and len(closes) == 3  # every instrument, with its close

    seeded, first = await _first_figures_without_ticks(settings, stopped)

    assert seeded == (stopped.event_ts, stopped.day_pnl, stopped.equity)  # the console
    assert _figures(first) == _figures(stopped)  # the engine: to the paisa, same clock, day
    assert read_marks(first.marks) == (marks, closes)
    await _first_ticks_after(settings, stopped)


async def test_a_killed_engine_resumes_at_the_newest_market_time_it_recorded(
    isolated_home: Path,
) -> None:
    """SIGKILL: what was not stored is lost (the ticks since the last write, the marks
    since the last snapshot); the restart carries on from the newest record of each."""
    settings = _settings(isolated_home)
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(
            lambda: db.count("positions", "net_quantity != 0") > 0 and db.count("fills") >= 4,
            timeout=30,
            what="open positions",
        )
        await poll(lambda: db.count("pnl_snapshots") >= 3, timeout=10, what="snapshots")
        engine.kill()
    finally:
        engine.close()
    stopped = await _latest(settings)
    recorded = last_recorded_ticks(settings)
    assert recorded  # the live stream of the killed run, read as it was left
    async with await SqlTradingStore.open(settings.database.url or "") as store:
        left = await market_left(settings, store, BROKER)
        journal = [f.fill_ts for f in await store.list_fills(BROKER)] + [
            max(o.created_ts, o.updated_ts) for o in await store.list_orders(BROKER)
        ]
    newest_tick = max(t.exchange_ts for t in recorded)
    assert left.after_ns == max(newest_tick, stopped.event_ts, *journal)
    if newest_tick >= stopped.event_ts:  # the ticks are the newest record of the prices
        carried = {token: (last, close) for token, last, close in left.prices}
        assert carried == {t.instrument_token: (t.last_price, t.close) for t in recorded}

    seeded, first = await _first_figures_without_ticks(settings, stopped)

    # Fills journaled after the last snapshot count (the journal is the truth), valued at
    # the snapshot's marks and day: the console's clock and Day P&L and the engine's agree
    # before any tick. (The console's equity is the stale snapshot's until the engine's
    # first one arrives: its cash does not have those fills yet.)
    assert (first.event_ts, first.trading_day) == (stopped.event_ts, stopped.trading_day)
    assert read_marks(first.marks) == read_marks(stopped.marks)
    assert seeded[:2] == (first.event_ts, first.day_pnl)
    assert first.equity != Decimal(0)
    await _first_ticks_after(settings, stopped)
