"""The screen tells the truth: the run's clock and market status, feed freshness, whole money.

Pilot tests on a fixed wall clock (``ManualClock``) and the seeded simulated market, read
through the characters on the terminal as a trader reads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from alphapanda_tui.app import make_app
from alphapanda_tui.runtime import EngineRuntime
from alphapanda_tui.settings import load_settings
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.payloads import PnlSnapshot
from engine.events.types import EventType, OrderStatus, TradingMode
from engine.instruments import load_default_registry
from engine.market.calendar import NseCalendar
from engine.market.feeds.simulated import SimulatedFeed, SimulatedFeedConfig
from engine.read_model import GLOBAL_SCOPE
from engine.read_model.run_clock import RunClock
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, BusHarness, order, position, seed, tick
from tests.tui.test_no_color import screen_text

SIM_DAY = date(2025, 1, 15)  # a Wednesday, the harness's wall-clock day
FEED_INSTRUMENTS = ("NSE:INFY", "NSE:TCS", "NSE:SBIN")


class FakeMonotonic:
    """A monotonic clock that moves only when told: when a feed has gone silent."""

    def __init__(self) -> None:
        self.ns = 1_000 * NS_PER_S

    def __call__(self) -> int:
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += int(seconds * NS_PER_S)


def sim_feed(
    harness: BusHarness, *, ticks_per_second: float | None, max_ticks: int
) -> SimulatedFeed:
    config = SimulatedFeedConfig(
        seed=7,
        instruments=FEED_INSTRUMENTS,
        clock_mode="compressed",
        start_date=SIM_DAY,
        ticks_per_second=ticks_per_second,
        max_ticks=max_ticks,
    )
    return SimulatedFeed(harness.bus, load_default_registry(), config, clock=harness.clock)


@asynccontextmanager
async def _console(
    harness: BusHarness, size: tuple[int, int] = (120, 40)
) -> AsyncIterator[Console]:
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=size) as pilot:
        await eventually(lambda: harness.started, message="engine not started")
        yield Console(app, pilot, harness)


@pytest.fixture
def mono() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def sim(mono: FakeMonotonic) -> AsyncIterator[Console]:
    clock = RunClock(label="SIM", calendar=NseCalendar(), stale_after_s=2.0, monotonic_ns=mono)
    async with _console(BusHarness(run_clock=clock)) as console:
        yield console


def health_feed_line(console: Console) -> str:
    lines = [line for line in screen_text(console.app).splitlines() if "│feed " in line]
    assert lines, "no feed line on screen"
    return lines[0]


# -- the run's clock and the market ------------------------------------------------------
async def test_header_shows_the_simulated_clock_with_its_date_and_market(sim: Console) -> None:
    feed = sim_feed(sim.harness, ticks_per_second=None, max_ticks=30)
    await feed.run()
    await sim.settle()
    header = screen_text(sim.app).splitlines()[0]
    event_ns = sim.harness.read_model.event_ns
    assert event_ns is not None
    shown = datetime.fromtimestamp(event_ns / NS_PER_S, IST).strftime("%H:%M:%S")
    assert f"SIM 15 Jan 2025 {shown} IST" in header  # the feed's event time, not 10:15 wall
    assert shown != "10:15:00"
    assert "Market: OPEN" in header


@pytest.mark.parametrize(
    ("at", "holidays", "status"),
    [
        (time(9, 5), (), "PRE-OPEN"),
        (time(11, 0), (), "OPEN"),
        (time(16, 0), (), "CLOSED"),
        (time(11, 0), (SIM_DAY,), "HOLIDAY"),
    ],
)
async def test_market_status_comes_from_the_calendar_at_the_run_clock(
    at: time, holidays: tuple[date, ...], status: str
) -> None:
    harness = BusHarness(run_clock=RunClock(calendar=NseCalendar(holidays)))
    harness.clock.set_ns(datetime_to_ns(datetime.combine(SIM_DAY, at, tzinfo=IST)))
    async with _console(harness) as console:
        await console.settle()
        header = console.header()
        assert f"Market: {status}" in header
        assert f"15 Jan 2025 {at:%H:%M}:00 IST" in header and "SIM" not in header


async def test_rows_from_another_day_show_their_date(sim: Console) -> None:
    harness = sim.harness
    await harness.publish(topics.MARKET_TICKS, EventType.MARKET_TICK, tick(1, "NSE:X", "10"))
    yesterday = order("old", "NSE:INFY", OrderStatus.OPEN, price="1490", at=-86_400)
    done = order("done", "NSE:INFY", OrderStatus.FILLED, filled=10, price="1500", at=-86_000)
    today = order("new", "NSE:INFY", OrderStatus.FILLED, filled=10, price="1500", at=-60)
    for update in (yesterday, done, today):
        await harness.publish(
            topics.orders_events(harness.broker),
            EventType.ORDER_FILLED,
            update,
            update.client_order_id,
        )
    await sim.settle()
    orders = sim.app.dashboard.query_one("#orders")
    assert orders.cell_text("new", "time") == "10:14:00"
    assert orders.cell_text("old", "time") == "14 Jan 10:15"  # still working: shown, dated
    assert "done" not in orders.row_keys  # finished on an earlier day: not today's book


# -- feed freshness ----------------------------------------------------------------------
async def test_a_ticking_simulated_feed_is_never_stale() -> None:
    """Event times are hours behind the fixed wall clock; arrival times are what count."""
    harness = BusHarness(run_clock=RunClock(label="SIM", stale_after_s=1.0))
    async with _console(harness) as console:
        # up to 20 s of ticks; sampled every 0.2 s while it ticks, then stopped. A look is
        # one frame (pause(0)): Pilot's idle wait would last until this process spends under
        # 1 ms of CPU in 20 ms, which a ticking feed on a loaded box seldom allows (up to 1 s)
        feed = sim_feed(harness, ticks_per_second=150.0, max_ticks=3000)
        run = asyncio.create_task(feed.run())
        seen: list[str] = []
        while not run.done() and len(seen) < 8:
            await asyncio.sleep(0.2)
            console.app.refresh_from_model(True)
            await console.pilot.pause(0)
            if harness.read_model.ticks_seen and not run.done():
                seen.append(health_feed_line(console))
        feed.stop()
        await run
        assert len(seen) == 8, "the feed stopped ticking before eight looks"
        assert all("live" in line and "STALE" not in line for line in seen), seen


async def test_a_silent_feed_is_stale_after_stale_after_s(
    sim: Console, mono: FakeMonotonic
) -> None:
    await sim_feed(sim.harness, ticks_per_second=None, max_ticks=3).run()
    await sim.settle()
    assert "live" in health_feed_line(sim)
    mono.advance(1.9)  # stale_after_s is 2.0
    sim.app.refresh_from_model(True)
    await sim.pilot.pause()
    assert "live" in health_feed_line(sim)
    mono.advance(0.2)
    sim.app.refresh_from_model(True)
    await sim.pilot.pause()
    line = health_feed_line(sim)
    assert "STALE" in line and "tick 2s ago" in line


def test_the_runtime_reads_feed_stale_after_s(isolated_home: Path) -> None:
    settings = load_settings(home=isolated_home, feed={"stale_after_s": 7.5})
    clock = EngineRuntime(settings).read_model.clock
    assert clock.stale_after_s == 7.5
    assert clock.label == "SIM"  # paper on the simulated market
    live = load_settings(home=isolated_home, mode="live", feed={"source": "kite"})
    assert EngineRuntime(live).read_model.clock.label is None  # the wall clock


# -- money is never cut ------------------------------------------------------------------
async def seed_big_figures(harness: BusHarness) -> None:
    """The seeded morning plus a realized −2,019.40 and an equity of 999,841.23."""
    await seed(harness)
    await harness.publish(
        topics.positions(harness.broker),
        EventType.POSITION_UPDATED,
        position("momentum", 2953217, "NSE:TCS", 0, "4100.00", "-2139.40"),
    )
    snapshot = PnlSnapshot(
        broker=harness.broker,
        snapshot_ts=START_NS + 5 * NS_PER_S,
        realized_pnl=Decimal("-2019.40"),
        unrealized_pnl=Decimal("146.50"),  # the seeded positions as marked by the ticks
        charges=Decimal("123.60"),
        cash=Decimal("960000"),
        equity=Decimal("999841.23"),
        gross_exposure=Decimal("39651.50"),
    )
    await harness.publish(topics.pnl_snapshots(harness.broker), EventType.PNL_SNAPSHOT, snapshot)
    cancelled = order("ord-4", "NSE:RELIANCE", OrderStatus.CANCELLED, price="2451.00", at=-10)
    await harness.publish(
        topics.orders_events(harness.broker), EventType.ORDER_CANCELLED, cancelled, "ord-4"
    )


HALT_REASON = "daily loss limit breached: -52,019.40 is below -50,000.00"


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_money_is_never_cut(size: tuple[int, int]) -> None:
    harness = BusHarness()
    async with _console(harness, size) as console:
        await seed_big_figures(harness)
        harness.read_model.set_trading_state(GLOBAL_SCOPE, TradingMode.HALTED, HALT_REASON)
        await console.settle()
        text = screen_text(console.app)
        assert "…" not in text.split("╭")[0], "the header or P&L line is cut"
        assert HALT_REASON in text  # the state's reason, whole
        assert "999,841.23" in text  # equity
        assert "-2,019.40" in text  # realized: the positions TOTAL and the P&L line
        assert "-2,139.40" in text  # one position's realized
        lines = text.splitlines()
        header = next(line for line in lines if "Symbol" in line and "Realized" in line)
        assert "Chg" in header and "Unreal." in header  # not "Day": read as Day P&L
        for status in ("FILLED", "REJECTED", "CANCELLED"):
            assert any(status in line for line in lines), status
        if size == (120, 40):  # the strategies panel is on screen: its P&L whole
            # the day's P&L of its rows, net of their charges (23.60), as the header counts
            assert any("momentum" in line and "-1,866.50" in line for line in lines)


async def test_the_pnl_line_and_the_positions_total_agree(console: Console) -> None:
    """Both from one frame's marks: a tick moves them together, before any new snapshot."""
    positions = console.app.dashboard.query_one("#positions")
    figures: Callable[[], str] = lambda: str(  # noqa: E731
        console.app.dashboard.query_one("#pnl-figures").visual
    )
    await console.harness.publish(
        topics.MARKET_TICKS, EventType.MARKET_TICK, tick(408065, "NSE:INFY", "1520.40"), "408065"
    )
    await console.settle()
    total = positions.cell_text("__total__", "unrealized")
    assert total == "+226.50"  # INFY +204.00, RELIANCE +52.50, SBIN -30.00
    assert f"Unrealized {total}" in figures()
    assert f"Realized {positions.cell_text('__total__', 'realized')}" in figures()
