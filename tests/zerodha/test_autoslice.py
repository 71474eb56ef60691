"""Orders above the freeze quantity go out with Kite's autoslice; legs are one client order.

The real ``kiteconnect`` client against the loopback Kite, which answers autoslice as
Zerodha's mock does (a parent id, ``children[]``, one child refused with its error).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.events.types import EventType, OrderStatus, Severity
from engine.instruments.freeze import legs, load_freeze_table
from tests.kite_fake.server import FakeKite
from tests.zerodha.fill_harness import INFY, live_execution

pytestmark = pytest.mark.kite


def test_the_published_table_is_dated_and_an_override_changes_the_slicing() -> None:
    table = load_freeze_table()
    assert table.as_of == "2026-02-01" and "NSE" in table.source
    assert table.limits["NFO:NIFTY"] == 1800
    assert legs(5400, table.limits["NFO:NIFTY"]) == [1800, 1800, 1800]
    overridden = load_freeze_table({"NFO:NIFTY": 1200})
    assert legs(5400, overridden.limits["NFO:NIFTY"]) == [1200] * 4 + [600]


async def test_three_times_the_freeze_with_one_leg_refused_fills_the_two_good_legs_once(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    fake_kite.state.freeze_quantities["INFY"] = 1800
    fake_kite.state.autoslice_failed_legs.add(2)
    live = await live_execution(fake_kite, tmp_path)
    live.service.adapter._freeze_of = {INFY: 1800}.get  # type: ignore[attr-defined]
    cid, parent = await live.place("sig-big", 5400)

    places = [r for r in fake_kite.state.requests if r[0] == "POST" and r[1] == "/orders/regular"]
    assert len(places) == 1 and places[0][2]["autoslice"] == "True"
    [alert] = [
        e.data
        for e in live.emitted
        if e.type is EventType.RISK_ALERT and e.data.severity is Severity.CRITICAL  # type: ignore[union-attr]
    ]
    assert "leg 2 of 3 rejected by Zerodha" in alert.message  # type: ignore[union-attr]
    assert "Insufficient funds" in alert.message and "not sent again" in alert.message  # type: ignore[union-attr]

    leg_ids = [o["order_id"] for o in fake_kite.state.orders.values()]
    assert parent not in leg_ids and len(leg_ids) == 2
    first = fake_kite.fill_order(leg_ids[0], price=1500.0)
    await live.updates.ingest(first)
    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 1800)

    second = fake_kite.fill_order(leg_ids[1], price=1501.0)
    await live.updates.ingest(second)
    await live.updates.ingest(second)  # the same push again, and a poll: nothing doubles
    await live.updates.poll_once()

    order = await live.order(cid)
    trade_ids = fake_kite.trade_ids(leg_ids[0]) + fake_kite.trade_ids(leg_ids[1])
    assert sorted(live.journal(cid)) == sorted((t, 1800) for t in trade_ids)
    assert order.filled_quantity == 3600 and live.position() == 3600
    assert order.status is OrderStatus.REJECTED and "1800 of 5400 never placed" in order.reason
    assert cid not in live.service.working
    places = [r for r in fake_kite.state.requests if r[0] == "POST" and r[1] == "/orders/regular"]
    assert len(places) == 1  # the refused leg was never sent again
