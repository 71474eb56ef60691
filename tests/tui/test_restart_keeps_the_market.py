"""A console restarted on the same home shows the simulated market where it stopped: the
SIM clock, the Day P&L and the equity of the stored snapshot before any tick, and then
the market carrying on from there with the day's previous closes.

Seen in QA: the clock went back to the last fill and the prices and previous closes
started again from the bundled defaults, so the Day P&L and the equity jumped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import textual.app
import textual.pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import Settings
from engine.domain.records import PnlSnapshotRecord
from engine.events.types import Broker
from engine.market.sessions import TradingDays
from engine.money import signed_amount
from engine.portfolio.marks import read_marks
from storage.store import SqlTradingStore
from tests.helpers import eventually
from tests.tui.test_real_runtime import _one_turn, engine_settings
from widgets.formatting import ist_time, money


@pytest.fixture(autouse=True)
def keys_do_not_wait_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in ``test_real_runtime``: a running engine never lets the CPU idle."""
    monkeypatch.setattr(textual.app, "wait_for_idle", _one_turn)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _one_turn)


def _settings(home: Path) -> Settings:
    return engine_settings(home, feed={"tick_interval_ms": 10})


@asynccontextmanager
async def console_on(home: Path, *, ticking: bool) -> AsyncIterator[AlphaPandaApp]:
    """The real console, engine and simulated market on ``home``; no feed unless ``ticking``."""
    feed = None if ticking else (lambda bus, registry: None)
    runtime = build_runtime(_settings(home), feed_factory=feed)
    app = make_app(runtime, operator="trader@desk")
    async with app.run_test(size=(120, 40)):
        await eventually(lambda: app.engine_running, message="engine not started")
        yield app
        await app.stop_engine()


def header(app: AlphaPandaApp) -> str:
    return str(app.dashboard.query_one("#header").line)  # type: ignore[attr-defined]


def pnl_text(app: AlphaPandaApp) -> str:
    return str(app.dashboard.query_one("#pnl-figures").render())


async def stored_snapshot(home: Path) -> PnlSnapshotRecord:
    async with await SqlTradingStore.open(_settings(home).database.url or "") as store:
        snapshot = await store.latest_pnl_snapshot(Broker.PAPER)
    assert snapshot is not None
    return snapshot


async def test_a_restarted_console_shows_the_clock_and_money_it_stopped_at(
    isolated_home: Path,
) -> None:
    async with console_on(isolated_home, ticking=True) as app:
        model = app.handle.read_model
        await eventually(
            lambda: any(p.net_quantity for p in model.positions.values()),
            timeout=30,
            message="no open position",
        )
    stopped = await stored_snapshot(isolated_home)  # the final one, at the stop
    assert stopped.marks

    async with console_on(isolated_home, ticking=False) as app:  # only what was stored
        model = app.handle.read_model
        await eventually(lambda: model.pnl is not None, timeout=10, message="not seeded")
        await eventually(lambda: "Day P&L" in header(app), timeout=10, message="no Day P&L")
        assert ist_time(stopped.event_ts) in header(app)  # the SIM clock where it stopped
        marks, _ = read_marks(stopped.marks)
        views = model.position_views()
        assert views and all(v.last_price == marks[v.instrument_token] for v in views)
        account = model.account()
        assert f"Day P&L {signed_amount(account.day_pnl)}" in header(app)
        assert money(account.equity) in pnl_text(app)
        # The engine's figure to the paisa but for the console's own re-marking, which
        # works from the average price to 4 places (as it does before the stop too).
        assert account.day_pnl is not None and account.equity is not None
        assert stopped.day_pnl is not None
        assert abs(account.day_pnl - stopped.day_pnl) < Decimal("0.50"), (
            f"stored {stopped}; console {account}; rows {views}"
        )
        assert abs(account.equity - stopped.equity) < Decimal("0.50")
        assert model.ticks_seen == 0

    async with console_on(isolated_home, ticking=True) as app:
        model = app.handle.read_model
        await eventually(lambda: model.ticks_seen >= 20, timeout=10, message="no ticks")
        first_ns, closes = model.event_ns, dict(model.closes)
    assert first_ns is not None and first_ns > stopped.event_ts  # never earlier
    if TradingDays(model.clock.calendar).window(first_ns).label == stopped.trading_day:
        _, stored_closes = read_marks(stopped.marks)
        assert {t: closes[t] for t in stored_closes if t in closes} == {
            t: c for t, c in stored_closes.items() if t in closes
        }
