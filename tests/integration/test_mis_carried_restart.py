"""A paper engine restarted on a later trading day squares off the MIS positions an
earlier process left open (it crashed before the cut-off), on the new day's first tick."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.clock import IST, datetime_to_ns
from engine.events.types import Broker, OrderStatus, Side
from engine.execution.service import MIS_SQUARE_OFF
from engine.memory_store import MemoryTradingStore
from tests.integration.test_position_bounds import Market, Run, _positions

TUE_0920 = datetime_to_ns(datetime(2026, 1, 6, 9, 20, tzinfo=IST))


async def test_a_restart_on_the_next_day_squares_off_yesterdays_mis_positions() -> None:
    store = MemoryTradingStore()
    market = Market()
    run = Run(store)
    await run.start()
    for step in ["-3"] * 6 + ["3"] * 7:  # a dip and a rise on Monday: the strategies buy
        await run.tick(market.next_tick(Decimal(step)))
    held = {s: n for s, n in (await _positions(store)).items() if n}
    assert held, "the strategies bought nothing"
    await run.crash()  # gone at 10:00, long before the 15:15 cut-off

    market.ts = TUE_0920
    run = Run(store)
    await run.start()
    try:
        await run.tick(market.next_tick(Decimal("0")))
    finally:
        await run.stop()

    assert {s: n for s, n in (await _positions(store)).items() if n} == {}
    orders = await store.list_orders(Broker.PAPER)
    carried = [o for o in orders if o.signal_id.startswith(f"{MIS_SQUARE_OFF}carried:")]
    assert {o.strategy: o.quantity for o in carried} == held
    assert {(o.side, o.status) for o in carried} == {(Side.SELL, OrderStatus.FILLED)}
    assert all(o.created_ts >= TUE_0920 for o in carried)
