"""After a restart the console shows the day's orders, positions and P&L before any tick.

The real runtime on the real SQLite store: a first session trades on the seeded simulated
market and stops gracefully (its final P&L snapshot is stored); a second console on the
same database runs with no feed at all, so whatever it shows came from the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import textual.app
import textual.pilot
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import Settings
from engine.clock import ManualClock
from engine.domain.records import OrderRecord
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side
from engine.market.sessions import TradingDays
from engine.read_model.seed import day_orders
from tests.helpers import eventually
from tests.tui.harness import NS, START_NS
from tests.tui.test_real_runtime import _one_turn, engine_settings, seeded_feed


@pytest.fixture(autouse=True)
def keys_do_not_wait_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in ``test_real_runtime``: a running engine never lets the CPU idle."""
    monkeypatch.setattr(textual.app, "wait_for_idle", _one_turn)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _one_turn)


@asynccontextmanager
async def console_on(
    home: Path, *, ticking: bool, settings: Callable[[Path], Settings] = engine_settings
) -> AsyncIterator[tuple[AlphaPandaApp, Pilot]]:
    """The real console and engine on ``home``'s SQLite database; no feed unless ``ticking``."""
    clock = ManualClock(START_NS)
    feed = seeded_feed(clock) if ticking else (lambda bus, registry: None)
    runtime = build_runtime(settings(home), clock=clock, feed_factory=feed)
    app = make_app(runtime, operator="trader@desk")
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(lambda: app.engine_running, message="engine not started")
        yield app, pilot


def stored_orders(home: Path) -> set[str]:
    with sqlite3.connect(home / "alphapanda.db") as db:
        return {row[0] for row in db.execute("SELECT client_order_id FROM orders")}


def pnl_text(app: AlphaPandaApp) -> str:
    return str(app.dashboard.query_one("#pnl-figures").render())


async def test_restart_shows_the_days_orders_and_pnl_before_any_tick(isolated_home: Path) -> None:
    async with console_on(isolated_home, ticking=True) as (app, _pilot):
        model = app.handle.read_model
        await eventually(lambda: len(model.orders) >= 4, timeout=15, message="no orders")
        await eventually(lambda: model.positions, timeout=15, message="no positions")
        await app.stop_engine()  # graceful: drain, final P&L snapshot stored
    earlier = stored_orders(isolated_home)
    assert len(earlier) >= 4

    async with console_on(isolated_home, ticking=False) as (app, pilot):
        model = app.handle.read_model
        orders = app.dashboard.query_one("#orders")
        await eventually(lambda: orders.row_keys, timeout=10, message="orders table empty")
        await pilot.pause()
        assert model.ticks_seen == 0  # nothing came from a feed
        assert set(orders.row_keys) <= earlier
        assert len(orders.row_keys) == min(len(earlier), len(model.orders))
        line = pnl_text(app)
        assert "waiting for the first snapshot" not in line
        assert "Equity" in line and "—" not in line  # every figure known, from the store
        positions = app.dashboard.query_one("#positions")
        assert positions.row_keys  # the positions the journal implies
        account = model.account()
        assert account.equity is not None
        assert f"{account.equity:,.2f}" in line  # the P&L line shows the stored figures


def test_only_the_days_finished_orders_are_drawn_working_ones_always() -> None:
    """Yesterday's fills are history (the table is today's); an order still working is not."""
    day = 24 * 3600 * NS

    def stored(coid: str, status: OrderStatus, at: int) -> OrderRecord:
        return OrderRecord(
            client_order_id=coid,
            broker=Broker.PAPER,
            strategy="momo",
            signal_id=coid,
            instrument_token=408065,
            symbol="NSE:INFY",
            side=Side.BUY,
            quantity=1,
            order_type=OrderType.MARKET,
            product=Product.CNC,
            status=status,
            created_ts=at,
            updated_ts=at,
        )

    orders = [
        stored("today-filled", OrderStatus.FILLED, START_NS),
        stored("yesterday-filled", OrderStatus.FILLED, START_NS - day),
        stored("yesterday-open", OrderStatus.OPEN, START_NS - day),
    ]
    kept = {o.client_order_id for o in day_orders(orders, TradingDays())}
    assert kept == {"today-filled", "yesterday-open"}
