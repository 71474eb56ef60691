"""Atomic writes under contention: 20 tasks, each in its own session, race on one key."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine.events.types import Broker
from storage.store import SqlTradingStore
from tests.storage.factories import make_fill, make_order, make_position

RACERS = 20


async def test_concurrent_upserts_of_one_position_leave_one_row(store: SqlTradingStore) -> None:
    candidates = [
        make_position(i + 1, average_price=Decimal(f"{100 + i}.25")) for i in range(RACERS)
    ]

    await asyncio.gather(*(store.upsert_position(p) for p in candidates))

    positions = await store.list_positions(Broker.PAPER)
    assert len(positions) == 1
    assert positions[0] in candidates  # one writer's whole row, never a mix


async def test_concurrent_fills_of_one_trade_count_once(store: SqlTradingStore) -> None:
    results = await asyncio.gather(
        *(store.record_fill(make_fill("T1"), make_position(10 * (i + 1))) for i in range(RACERS))
    )

    assert sorted(results) == [False] * (RACERS - 1) + [True]
    assert len(await store.list_fills(Broker.PAPER)) == 1
    [position] = await store.list_positions(Broker.PAPER)
    assert position == make_position(10 * (results.index(True) + 1))


async def test_concurrent_inserts_of_one_client_order_id_store_one(store: SqlTradingStore) -> None:
    results = await asyncio.gather(
        *(store.insert_order(make_order("AP1", quantity=i + 1)) for i in range(RACERS))
    )

    assert results.count(True) == 1
    [order] = await store.list_orders(Broker.PAPER)
    assert order.quantity == results.index(True) + 1
