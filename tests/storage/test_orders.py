"""The order outbox on both engines: unique client order ids, updates, listing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.events.types import Broker, OrderStatus, OrderType, Side
from storage.store import SqlTradingStore
from tests.storage.factories import NS, T0, make_fill, make_order


async def test_order_round_trips_exactly_with_nones(store: SqlTradingStore) -> None:
    market = make_order("AP-M", order_type=OrderType.MARKET, price=None, side=Side.SELL)
    sl = make_order("AP-SL", order_type=OrderType.SL_M, trigger_price=Decimal("2399.95"))

    assert await store.insert_order(market)
    assert await store.insert_order(sl)

    assert await store.get_order("AP-M") == market
    loaded = await store.get_order("AP-SL")
    assert loaded == sl
    assert loaded is not None and loaded.trigger_price == Decimal("2399.95")
    assert loaded.order_type is OrderType.SL_M and loaded.average_price is None


async def test_duplicate_client_order_id_is_refused_and_keeps_the_first(
    store: SqlTradingStore,
) -> None:
    first = make_order("AP1", quantity=10)

    assert await store.insert_order(first, processed=("execution", "evt-1"))
    assert not await store.insert_order(make_order("AP1", quantity=99), processed=("x", "evt-2"))

    assert await store.get_order("AP1") == first
    assert await store.seen("execution", "evt-1")
    assert not await store.seen("x", "evt-2")  # a refused effect records no processed mark


async def test_update_order_stores_status_fill_progress_broker_id_and_reason(
    store: SqlTradingStore,
) -> None:
    order = make_order("AP1")
    await store.insert_order(order)
    order.status = OrderStatus.PARTIALLY_FILLED
    order.filled_quantity = 4
    order.average_price = Decimal("2450.0125")
    order.broker_order_id = "250101000000123"
    order.reason = "partial"
    order.updated_ts = T0 + 5 * NS

    await store.update_order(order)

    assert await store.get_order("AP1") == order


async def test_update_of_an_unknown_order_raises(store: SqlTradingStore) -> None:
    with pytest.raises(KeyError):
        await store.update_order(make_order("NOPE"))
    assert await store.get_order("NOPE") is None


async def test_list_orders_is_newest_first_filtered_by_status_and_broker(
    store: SqlTradingStore,
) -> None:
    for i, status in enumerate([OrderStatus.FILLED, OrderStatus.OPEN, OrderStatus.PENDING]):
        await store.insert_order(make_order(f"AP{i}", status=status, created_ts=T0 + i * NS))
    await store.insert_order(make_order("Z1", broker=Broker.ZERODHA, created_ts=T0 + 9 * NS))

    newest_first = await store.list_orders(Broker.PAPER)
    working = await store.list_orders(Broker.PAPER, [OrderStatus.OPEN, OrderStatus.PENDING])

    assert [o.client_order_id for o in newest_first] == ["AP2", "AP1", "AP0"]
    assert [o.client_order_id for o in working] == ["AP2", "AP1"]
    assert [o.client_order_id for o in await store.list_orders(Broker.PAPER, limit=1)] == ["AP2"]
    assert [o.client_order_id for o in await store.list_orders(Broker.ZERODHA)] == ["Z1"]


async def test_apply_execution_updates_order_and_journals_fill_once(
    store: SqlTradingStore,
) -> None:
    order = make_order("AP1")
    await store.insert_order(order)
    order.status = OrderStatus.FILLED
    order.filled_quantity = 10
    fill = make_fill("T1", client_order_id="AP1")

    assert await store.apply_execution(order, fill)
    order_again = make_order("AP1", status=OrderStatus.CANCELLED, reason="late duplicate")
    assert not await store.apply_execution(order_again, fill)

    assert (await store.get_order("AP1")) == order  # the duplicate wrote nothing
    assert await store.list_fills(Broker.PAPER) == [fill]


async def test_apply_execution_for_unknown_order_writes_no_fill(store: SqlTradingStore) -> None:
    with pytest.raises(KeyError):
        await store.apply_execution(make_order("GHOST"), make_fill("T9", client_order_id="GHOST"))
    assert await store.list_fills(Broker.PAPER) == []
