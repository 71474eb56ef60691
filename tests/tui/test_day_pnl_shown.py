"""The header shows the day's P&L, the figure the daily loss limit counts.

Seen on 16 Dec of the simulated market after a few days: the P&L line read 'Realized
-121.75  Unrealized -31.50  Charges 1,075.86', every figure since the first fill, while
``alphapanda status`` said 'day 2026-12-16  P&L -403.94  realized -237.60': nothing on the
screen said what the day had made or lost, nor how near the daily loss limit it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from engine.events import topics
from engine.events.payloads import PnlSnapshot, PositionSnapshot
from engine.events.types import Broker, EventType
from engine.market.calendar import NseCalendar
from engine.read_model.run_clock import RunClock
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, BusHarness, tick
from tests.tui.test_screen_truth import _console

TODAY = "2025-01-15"  # the harness's day
INFY = 408065


def _snapshot(trading_day: str) -> PnlSnapshot:
    """Overall figures since the first fill, and the day's part of them."""
    held = PositionSnapshot(
        broker=Broker.PAPER,
        strategy="rsi",
        instrument_token=INFY,
        symbol="NSE:INFY",
        net_quantity=10,
        average_price=Decimal("1577.75"),
        last_price=Decimal("1574.60"),
        realized_pnl=Decimal("-121.75"),
        unrealized_pnl=Decimal("-31.50"),
        charges=Decimal("1075.86"),
        updated_ts=START_NS,
        trading_day=trading_day,
        day_realized_pnl=Decimal("-237.60"),
        day_unrealized_pnl=Decimal("-31.50"),
        day_charges=Decimal("134.84"),
    )
    return PnlSnapshot(
        broker=Broker.PAPER,
        snapshot_ts=START_NS,
        realized_pnl=Decimal("-121.75"),
        unrealized_pnl=Decimal("-31.50"),
        charges=Decimal("1075.86"),
        cash=Decimal("998802.39"),
        equity=Decimal("998770.89"),
        gross_exposure=Decimal("15746.00"),
        positions=(held,),
        trading_day=trading_day,
        day_realized_pnl=Decimal("-237.60"),
        day_unrealized_pnl=Decimal("-31.50"),
        day_charges=Decimal("134.84"),
        event_ts=START_NS,
    )


async def _open(size: tuple[int, int], trading_day: str) -> AsyncIterator[Console]:
    clock = RunClock(label="SIM", calendar=NseCalendar(), stale_after_s=3600.0)
    async with _console(BusHarness(run_clock=clock), size) as console:
        harness = console.harness
        await harness.publish(
            topics.MARKET_TICKS, EventType.MARKET_TICK, tick(INFY, "NSE:INFY", "1574.60")
        )
        snapshot = _snapshot(trading_day)
        await harness.publish(
            topics.pnl_snapshots(harness.broker), EventType.PNL_SNAPSHOT, snapshot
        )
        await console.settle()
        yield console


@pytest.fixture(params=[(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def console(request: pytest.FixtureRequest) -> AsyncIterator[Console]:
    async for console in _open(request.param, TODAY):
        yield console


async def test_the_header_shows_the_days_pnl_whole(console: Console) -> None:
    header = console.header()
    assert "Day P&L -403.94" in header, header  # -237.60 - 31.50 - 134.84


async def test_the_days_pnl_moves_with_the_marks(console: Console) -> None:
    harness = console.harness
    await harness.publish(
        topics.MARKET_TICKS, EventType.MARKET_TICK, tick(INFY, "NSE:INFY", "1580.60", at=1)
    )
    await console.settle()
    assert "Day P&L -343.94" in console.header()  # 10 INFY up 6.00 since the snapshot


async def test_yesterdays_day_pnl_is_not_shown_as_todays() -> None:
    async for console in _open((120, 40), "2025-01-14"):
        assert "Day P&L" not in console.header()
