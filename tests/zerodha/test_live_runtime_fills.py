"""The live runtime end to end: a COMPLETE order whose trades lag behind its row.

Execution, the portfolio and the order poller run as in live mode (memory bus and
store, the real ``kiteconnect`` client against the loopback Kite); the push is handed to
the ticker's callback as its text frame carries it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.events.types import OrderStatus, TradingMode
from engine.zerodha.venue import ZerodhaVenue
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    INFY,
    MARKET_NS,
    as_text_frame,
    live_runtime,
    live_settings,
    log_in,
    send_signal,
    start,
    store_of,
)

pytestmark = [pytest.mark.kite, pytest.mark.slow]


async def test_lagging_trades_end_with_150_journalled_filled_and_held(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(isolated_home, fake_kite)
    await log_in(settings, fake_kite, clock, "reqtokLag1")
    runtime = live_runtime(settings, clock)
    await start(runtime)
    try:
        assert runtime.pipeline is not None and isinstance(runtime.venue, ZerodhaVenue)
        await eventually(lambda: not runtime.venue.busy, message="start reconciliation hangs")
        await runtime.pipeline.control.resume(operator="trader")
        await eventually(lambda: runtime.global_mode is TradingMode.ACTIVE)
        await send_signal(runtime, "sig-lag-150", quantity=150)
        store = store_of(runtime)
        await eventually(lambda: any(o.broker_order_id for o in store.orders.values()))
        [order] = store.orders.values()
        cid, order_id = order.client_order_id, order.broker_order_id
        assert order_id is not None

        fake_kite.fill_order(order_id, price=1500.0, quantity=75, push=False)
        pushed = fake_kite.fill_order(order_id, price=1501.0, quantity=75, trade_lag=None)
        assert (pushed["status"], pushed["filled_quantity"]) == ("COMPLETE", 150)
        runtime.venue.order_updates.on_ticker_update(as_text_frame(pushed))

        await eventually(lambda: len(store.fills) == 1, message="first trade not journalled")
        await eventually(lambda: store.orders[cid].filled_quantity == 75)
        assert store.orders[cid].status is OrderStatus.PARTIALLY_FILLED  # not FILLED 75/150

        def gap_alerted() -> bool:
            return any(
                "reports 150 filled but the journal holds 75" in a.message
                for a in runtime.read_model.alerts
            )

        await eventually(gap_alerted, message="no alert on the gap")

        fake_kite.release_trades(order_id)  # the poller reads the trades again
        await eventually(lambda: len(store.fills) == 2, timeout=15, message="trade dropped")
        assert sum(f.quantity for f in store.fills.values()) == 150
        await eventually(lambda: store.orders[cid].status is OrderStatus.FILLED)
        assert store.orders[cid].filled_quantity == 150

        def held() -> bool:
            return any(p.net_quantity == 150 for p in runtime.read_model.positions.values())

        await eventually(held, message="position not 150 in the portfolio")
        [position] = [p for p in store.positions.values() if p.instrument_token == INFY]
        assert position.net_quantity == 150
    finally:
        await runtime.stop()
