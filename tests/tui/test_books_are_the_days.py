"""The orders book and the trade book are the run's day, as their titles and the CLI say.

Seen in the console on the simulated market: after the session rolled to 09 Dec without a
restart, ``t`` showed "Trade book · 34 fills · charges 206.67", 33 of them 08 Dec's, while
``alphapanda trades`` (the newest record's day) listed one fill with charges 6.66. After a
restart the console seeds only the day's orders and fills, so the same book changed on a
restart. Yesterday's fills and orders stay in the store and the CLI's ``--all``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import msgspec
import pytest
from textual.widgets import Static

from engine.events import topics
from engine.events.payloads import Fill, OrderUpdate
from engine.events.types import EventType, OrderStatus
from engine.market.calendar import NseCalendar
from engine.read_model.run_clock import RunClock
from screens.orders_book import OrdersBookScreen
from screens.trade_book import TradeBookScreen
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, BusHarness, order, tick
from tests.tui.test_screen_truth import _console

DAY_S = 86_400  # the harness's day is Wed 15 Jan 2025; Tue 14 Jan is a trading day too


def _filled(coid: str, trade_id: str, charges: str, at: int) -> OrderUpdate:
    update = order(coid, "NSE:INFY", OrderStatus.FILLED, filled=10, price="1500", at=at)
    fill = Fill(
        trade_id=trade_id,
        quantity=10,
        price=Decimal("1500"),
        charges=Decimal(charges),
        fill_ts=START_NS + at * 1_000_000_000,
    )
    return msgspec.structs.replace(update, fill=fill)


@pytest.fixture
async def sim() -> AsyncIterator[Console]:
    """A simulated market's console: the run's clock is the newest tick's time."""
    clock = RunClock(label="SIM", calendar=NseCalendar(), stale_after_s=3600.0)
    async with _console(BusHarness(run_clock=clock)) as console:
        yield console


async def _trade_yesterday_and_today(sim: Console) -> None:
    harness = sim.harness
    orders = topics.orders_events(harness.broker)
    # yesterday's session: a fill while it was the run's day
    await harness.publish(
        topics.MARKET_TICKS, EventType.MARKET_TICK, tick(1, "NSE:X", "10", at=-DAY_S)
    )
    old = _filled("old", "t-old", "20.00", at=-DAY_S + 60)
    await harness.publish(orders, EventType.ORDER_FILLED, old, "old")
    await sim.settle()
    # the next session opens with a tick, and trades once
    await harness.publish(topics.MARKET_TICKS, EventType.MARKET_TICK, tick(1, "NSE:X", "10"))
    new = _filled("new", "t-new", "3.50", at=-60)
    await harness.publish(orders, EventType.ORDER_FILLED, new, "new")
    await sim.settle()


async def test_the_trade_book_after_a_new_session_lists_and_sums_only_its_fills(
    sim: Console,
) -> None:
    await _trade_yesterday_and_today(sim)
    await sim.pilot.press("t")
    await eventually(lambda: isinstance(sim.app.screen, TradeBookScreen))
    screen = sim.app.screen
    await eventually(lambda: "t-new" in screen.query_one("#book").row_keys)  # type: ignore[attr-defined]
    await sim.pilot.pause()
    assert list(screen.query_one("#book").row_keys) == ["t-new"]  # type: ignore[attr-defined]
    title = str(screen.query_one("#book-title", Static).render())
    assert title == "Trade book · 1 fill · charges 3.50"


async def test_the_orders_book_after_a_new_session_lists_only_its_orders(sim: Console) -> None:
    await _trade_yesterday_and_today(sim)
    await sim.pilot.press("o")
    await eventually(lambda: isinstance(sim.app.screen, OrdersBookScreen))
    screen = sim.app.screen
    await eventually(lambda: "new" in screen.query_one("#book").row_keys)  # type: ignore[attr-defined]
    await sim.pilot.pause()
    assert list(screen.query_one("#book").row_keys) == ["new"]  # type: ignore[attr-defined]
    title = str(screen.query_one("#book-title", Static).render())
    assert title.startswith("Orders book · all (1 of 1)")


async def test_a_book_open_over_the_session_change_drops_yesterday(sim: Console) -> None:
    """The book screen open while the day changes: no fill today yet, yesterday's goes."""
    harness = sim.harness
    await harness.publish(
        topics.MARKET_TICKS, EventType.MARKET_TICK, tick(1, "NSE:X", "10", at=-DAY_S)
    )
    old = _filled("old", "t-old", "20.00", at=-DAY_S + 60)
    await harness.publish(topics.orders_events(harness.broker), EventType.ORDER_FILLED, old, "old")
    await sim.settle()
    await sim.pilot.press("t")
    await eventually(lambda: isinstance(sim.app.screen, TradeBookScreen))
    screen = sim.app.screen
    await eventually(lambda: "t-old" in screen.query_one("#book").row_keys)  # type: ignore[attr-defined]
    await harness.publish(topics.MARKET_TICKS, EventType.MARKET_TICK, tick(1, "NSE:X", "10"))
    await harness.drained()
    await eventually(
        lambda: not screen.query_one("#book").row_keys,  # type: ignore[attr-defined]
        message="yesterday's fill still in today's trade book",
    )
    title = str(screen.query_one("#book-title", Static).render())
    assert title == "Trade book · 0 fills · charges 0.00"
