"""Fills come from trades, exactly once, and an order's status never goes backwards.

The real ``kiteconnect`` client reads the loopback Kite, scripted as the real one
behaves on bad days: its trade book lags its order book, a trade list shows a row of
another order, Kite modifies an order through transient states, a postback says UPDATE.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from engine.events import new_event
from engine.events.payloads import OrderCommand
from engine.events.types import (
    Broker,
    EventType,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Severity,
)
from tests.kite_fake.server import FakeKite
from tests.zerodha.fill_harness import KEY, live_execution

pytestmark = pytest.mark.kite


def _trade_reads(fake: FakeKite, order_id: str) -> int:
    path = f"/orders/{order_id}/trades"
    return sum(1 for m, p, _ in fake.state.requests if m == "GET" and p == path)


async def test_complete_whose_trades_lag_ends_with_every_trade_journalled(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-lag", 150)
    fake_kite.fill_order(order_id, price=1500.0, quantity=75, push=False)
    # the second trade completes the order, but the trade book does not list it yet
    row = fake_kite.fill_order(order_id, price=1499.0, quantity=75, trade_lag=None)
    assert (row["status"], row["filled_quantity"]) == ("COMPLETE", 150)

    await live.updates.ingest(row)  # the ticker's push: COMPLETE 150/150, one trade listed
    order = await live.order(cid)
    assert live.journal(cid) == [(fake_kite.trade_ids(order_id)[0], 75)]
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 75)
    assert cid in live.service.working and live.updates.lagging == [cid]
    [gap] = live.gap_alerts()
    assert gap.severity is Severity.WARNING
    assert "reports 150 filled but the journal holds 75" in gap.message

    await live.updates.poll_once()  # still lagging: nothing new, no second alert
    assert len(live.journal(cid)) == 1 and len(live.gap_alerts()) == 1

    fake_kite.release_trades(order_id)
    live.updates.polls += 10  # past the back-off
    await live.updates.poll_once()
    order = await live.order(cid)
    first, second = fake_kite.trade_ids(order_id)
    assert live.journal(cid) == [(first, 75), (second, 75)]
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, 150)
    assert order.average_price == Decimal("1499.5")
    assert live.position() == 150 and cid not in live.service.working
    assert live.updates.lagging == []
    closed = live.gap_alerts()[-1]
    assert closed.severity is Severity.INFO and "now add up, 150 journalled" in closed.message
    fills = [
        u.fill.trade_id
        for u in live.events(EventType.ORDER_PARTIALLY_FILLED, EventType.ORDER_FILLED)
        if u.fill
    ]
    assert fills == [first, second]  # each trade announced once
    # once everything adds up, nothing more is read or sent
    await live.updates.poll_once()
    assert len(live.journal(cid)) == 2


async def test_lagging_trades_are_fetched_again_backed_off_not_every_poll(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-backoff", 10)
    row = fake_kite.fill_order(order_id, trade_lag=None)
    await live.updates.ingest(row)  # one read at the push
    for _ in range(10):
        await live.updates.poll_once()
    # re-read on polls 1, 3 and 7 (1, 2, 4 polls apart), not on all ten
    assert _trade_reads(fake_kite, order_id) == 4
    order = await live.order(cid)
    assert order.status.is_working and live.journal(cid) == []  # still reconciling


@pytest.mark.parametrize("final", ["CANCELLED", "REJECTED"])
async def test_cancelled_or_rejected_after_a_partial_fill_keeps_its_lagging_fill(
    fake_kite: FakeKite, tmp_path: Path, final: str
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place(f"sig-{final}", 150)
    fake_kite.fill_order(order_id, quantity=50, push=False, trade_lag=None)
    row = fake_kite.set_status(order_id, final, push=False)
    await live.updates.ingest(row)
    order = await live.order(cid)
    assert order.status.is_working and order.filled_quantity == 0  # reconciling
    assert "reports 50 filled but the journal holds 0" in live.gap_alerts()[0].message

    fake_kite.release_trades(order_id)
    live.updates.polls += 10
    await live.updates.poll_once()
    order = await live.order(cid)
    assert order.status is OrderStatus(final) and order.filled_quantity == 50
    assert live.journal(cid) == [(fake_kite.trade_ids(order_id)[0], 50)] and live.position() == 50
    assert cid not in live.service.working


async def test_a_trade_after_the_orders_final_state_is_journalled_not_dropped(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    """A trade that raced our cancel: the cancel is on record, the trade shows later."""
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-race", 150)
    fake_kite.fill_order(order_id, quantity=60, push=False, trade_lag=None)
    cancel = OrderCommand(
        action=OrderCommandAction.CANCEL, broker=Broker.ZERODHA, client_order_id=cid
    )
    await live.handle(
        new_event(EventType.ORDER_COMMAND, cancel, source="test", key=KEY, broker=Broker.ZERODHA)
    )
    assert (await live.order(cid)).status is OrderStatus.CANCELLED
    assert cid not in live.service.working
    await live.updates.ingest(dict(fake_kite.state.orders[order_id]))  # Kite's cancel push

    fake_kite.release_trades(order_id)
    live.updates.polls += 10
    await live.updates.poll_once()  # nothing works any more, but the order still lags
    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, 60)
    assert live.journal(cid) == [(fake_kite.trade_ids(order_id)[0], 60)] and live.position() == 60
    [late] = [u for u in live.events(EventType.ORDER_CANCELLED) if u.fill]
    assert late.fill.trade_id == fake_kite.trade_ids(order_id)[0] and late.filled_quantity == 60
    assert live.updates.lagging == []


async def test_a_trade_row_of_another_order_is_not_attributed_to_this_one(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    big, big_id = await live.place("sig-big", 150)
    small, small_id = await live.place("sig-small", 10)
    small_row = fake_kite.fill_order(small_id, price=1500.0, push=False)
    [small_trade] = [t for t in fake_kite.state.trades if t["order_id"] == small_id]
    row = fake_kite.fill_order(big_id, price=1501.0, trade_lag=None)
    fake_kite.misfile_trade(big_id, small_trade)  # Kite lists it under the big order too

    await live.updates.ingest(row)  # the big order's push comes first
    assert live.journal(big) == [] and live.updates.foreign_trades == 1
    assert (await live.order(big)).status.is_working
    await live.updates.ingest(small_row)
    assert live.journal(small) == [(fake_kite.trade_ids(small_id)[0], 10)]
    assert (await live.order(small)).status is OrderStatus.FILLED

    fake_kite.release_trades(big_id)
    live.updates.polls += 10
    await live.updates.poll_once()
    assert live.journal(big) == [(fake_kite.trade_ids(big_id)[0], 150)]
    assert live.journal(small) == [(fake_kite.trade_ids(small_id)[0], 10)]
    assert (await live.order(big)).status is OrderStatus.FILLED
    assert live.position() == 160


async def test_modify_states_keep_the_order_working_and_take_the_rows_terms(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-mod", 10, OrderType.LIMIT, price=Decimal("1500.00"))
    await live.updates.ingest(fake_kite.acknowledge(order_id))  # OPEN at Kite
    assert (await live.order(cid)).status is OrderStatus.OPEN
    opened = len(live.events(EventType.ORDER_OPEN))
    with fake_kite.state.lock:  # the trader changes price and quantity on Kite web
        fake_kite.state.orders[order_id].update(price=1490.5, quantity=12, pending_quantity=12)
    for state in ("MODIFY VALIDATION PENDING", "MODIFY PENDING", "OPEN"):
        await live.updates.ingest(fake_kite.set_status(order_id, state, push=False))
        order = await live.order(cid)
        assert order.status is OrderStatus.OPEN, state
        assert (order.price, order.quantity) == (Decimal("1490.5"), 12)
    assert len(live.events(EventType.ORDER_OPEN)) == opened  # no second order.open
    [modified] = live.events(EventType.ORDER_MODIFIED)
    assert modified.price == Decimal("1490.5") and modified.quantity == 12
    assert not [u for u in live.venue.sent if u.status is OrderStatus.SUBMITTED]


async def test_a_stop_being_modified_stays_trigger_pending_with_its_new_trigger(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place(
        "sig-stop", 10, OrderType.SL, price=Decimal("1482.00"), trigger_price=Decimal("1481.00")
    )
    await live.updates.ingest(fake_kite.set_status(order_id, "TRIGGER PENDING", push=False))
    assert (await live.order(cid)).status is OrderStatus.TRIGGER_PENDING
    with fake_kite.state.lock:
        fake_kite.state.orders[order_id].update(trigger_price=1475.0, price=1476.0)
    for state in ("MODIFY VALIDATION PENDING", "MODIFY PENDING"):
        await live.updates.ingest(fake_kite.set_status(order_id, state, push=False))
        order = await live.order(cid)
        assert order.status is OrderStatus.TRIGGER_PENDING, state
        assert (order.trigger_price, order.price) == (Decimal("1475"), Decimal("1476"))


async def test_update_postback_is_applied_by_its_fields_not_its_word(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-upd", 10, OrderType.LIMIT, price=Decimal("1500.00"))
    with fake_kite.state.lock:
        fake_kite.state.orders[order_id]["price"] = 1495.0
    postback = fake_kite.postback(order_id, "UPDATE")  # a modify
    assert postback["status"] == "UPDATE" and postback["checksum"]
    await live.updates.ingest(postback)
    order = await live.order(cid)
    assert (order.status, order.price) == (OrderStatus.OPEN, Decimal("1495"))

    fake_kite.fill_order(order_id, price=1495.0, quantity=4, push=False)
    await live.updates.ingest(fake_kite.postback(order_id, "UPDATE"))  # a partial fill
    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 4)
    assert live.journal(cid) == [(fake_kite.trade_ids(order_id)[0], 4)]


async def test_a_status_earlier_in_the_orders_life_is_ignored(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-back", 10)
    stale = dict(fake_kite.state.orders[order_id], status="OPEN PENDING")
    await live.updates.ingest(fake_kite.fill_order(order_id, quantity=4, push=False))
    events = len(live.emitted)
    await live.updates.ingest(stale)  # a late push of a state the order has left
    order = await live.order(cid)
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 4)
    assert len(live.emitted) == events and live.position() == 4


async def test_execution_ignores_a_venue_status_behind_the_orders(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    """Whatever ingest sends: SUBMITTED after OPEN changes nothing and announces nothing."""
    live = await live_execution(fake_kite, tmp_path)
    cid, order_id = await live.place("sig-guard", 10)
    await live.updates.ingest(fake_kite.acknowledge(order_id))  # OPEN at Kite
    await live.updates.ingest(fake_kite.set_status(order_id, "OPEN PENDING", push=False))
    assert (await live.order(cid)).status is OrderStatus.OPEN
    [update] = [u for u in live.venue.sent if u.status is OrderStatus.OPEN]
    events = len(live.emitted)
    stale = msgspec.structs.replace(update, status=OrderStatus.SUBMITTED)
    await live.handle(
        new_event(
            EventType.ORDER_VENUE_UPDATE, stale, source="test", key=KEY, broker=Broker.ZERODHA
        )
    )
    assert (await live.order(cid)).status is OrderStatus.OPEN
    assert len(live.emitted) == events
