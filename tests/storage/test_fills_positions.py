"""Fills and positions: one transaction, duplicates refused, processed marks with the effect."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from engine.events.types import Broker, Side
from storage.store import SqlTradingStore
from tests.storage.factories import NS, T0, make_fill, make_position


async def test_record_fill_stores_fill_position_and_processed_mark(store: SqlTradingStore) -> None:
    fill = make_fill("T1")
    position = make_position(10)

    assert await store.record_fill(fill, position, processed=("portfolio", "evt-1"))

    assert await store.list_fills(Broker.PAPER) == [fill]
    assert await store.list_positions(Broker.PAPER) == [position]
    assert await store.seen("portfolio", "evt-1")


async def test_duplicate_trade_id_is_refused_and_position_unchanged(
    store: SqlTradingStore,
) -> None:
    position = make_position(10)
    await store.record_fill(make_fill("T1"), position)

    doubled = make_position(20, average_price=Decimal("9999"))
    assert not await store.record_fill(make_fill("T1"), doubled, processed=("portfolio", "e2"))

    assert await store.list_positions(Broker.PAPER) == [position]
    assert len(await store.list_fills(Broker.PAPER)) == 1
    assert not await store.seen("portfolio", "e2")


async def test_same_trade_id_on_the_other_broker_is_a_different_fill(
    store: SqlTradingStore,
) -> None:
    await store.record_fill(make_fill("T1"), make_position(10))
    live = make_fill("T1", broker=Broker.ZERODHA)

    assert await store.record_fill(live, make_position(10, broker=Broker.ZERODHA))
    assert await store.list_fills(Broker.ZERODHA) == [live]


async def test_failed_position_write_rolls_back_fill_and_processed_mark(
    store: SqlTradingStore,
) -> None:
    broken = make_position(10)
    broken.symbol = None  # type: ignore[assignment]  # NOT NULL: the upsert fails mid-transaction

    with pytest.raises(IntegrityError):
        await store.record_fill(make_fill("T1"), broken, processed=("portfolio", "evt-1"))

    assert await store.list_fills(Broker.PAPER) == []
    assert not await store.seen("portfolio", "evt-1")  # redelivery will apply it again
    assert await store.record_fill(make_fill("T1"), make_position(10))


async def test_fills_list_in_journal_order_even_when_fill_time_goes_backwards(
    store: SqlTradingStore,
) -> None:
    """A restarted simulated day or a lagging trade records a later fill with an earlier
    time; the rebuild must replay the order the live book applied, not the clock's."""
    first = make_fill("T-z", fill_ts=T0 + 9 * NS, side=Side.BUY)
    second = make_fill("T-a", fill_ts=T0 + NS, side=Side.SELL)
    third = make_fill("T-m", fill_ts=T0 + NS)  # same time as the second
    for fill in (first, second, third):
        await store.record_fill(fill, make_position(0))

    assert await store.list_fills(Broker.PAPER) == [first, second, third]


async def test_upsert_position_replaces_by_broker_strategy_instrument(
    store: SqlTradingStore,
) -> None:
    await store.upsert_position(make_position(10))
    await store.upsert_position(make_position(10, instrument_token=408065, symbol="NSE:INFY"))
    flat = make_position(0, realized_pnl=Decimal("250.5"), last_price=None)

    await store.upsert_position(flat)

    positions = await store.list_positions(Broker.PAPER)
    assert len(positions) == 2
    assert flat in positions
    assert await store.list_positions(Broker.ZERODHA) == []
