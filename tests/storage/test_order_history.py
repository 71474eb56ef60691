"""Each order's status history and the risk refusals, on SQLite and PostgreSQL (and the
memory store, which honours the same contract): every status an order moved to is kept
with the order's own write, once; a refusal keeps what it refused."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.domain.records import RiskAlertRecord
from engine.events.types import Broker, OrderStatus, Severity, Side
from engine.memory_store import MemoryTradingStore
from storage.store import SqlTradingStore
from tests.stored import stored_fill, stored_order

T0 = 1_767_225_600_000_000_000
S = 1_000_000_000
Store = SqlTradingStore | MemoryTradingStore


async def test_every_status_an_order_moved_to_is_kept_once_in_order(store: SqlTradingStore) -> None:
    await _steps_kept_once(store)


async def test_a_refusal_keeps_what_it_refused_and_other_alerts_are_not_refusals(
    store: SqlTradingStore,
) -> None:
    await _refusals_kept(store)


async def test_the_memory_store_keeps_the_same_history() -> None:
    await _steps_kept_once(MemoryTradingStore())
    await _refusals_kept(MemoryTradingStore())


async def _steps_kept_once(store: Store) -> None:
    await store.insert_order(stored_order("A1", created_ts=T0))
    opened = stored_order("A1", status=OrderStatus.OPEN, updated_ts=T0 + S)
    await store.update_order(opened)
    await store.update_order(msgspec.structs.replace(opened, price=Decimal("1575.00")))  # modify
    await store.update_order(opened)  # a redelivered update
    part = stored_order(
        "A1", status=OrderStatus.PARTIALLY_FILLED, filled_quantity=4, updated_ts=T0 + 2 * S
    )
    await store.apply_execution(part, stored_fill("A1", "T1", 4, T0 + 2 * S))
    done = stored_order("A1", status=OrderStatus.FILLED, filled_quantity=10, updated_ts=T0 + 3 * S)
    await store.apply_execution(done, stored_fill("A1", "T2", 6, T0 + 3 * S))
    assert not await store.apply_execution(
        done, stored_fill("A1", "T2", 6, T0 + 3 * S)
    )  # duplicate
    await store.insert_order(stored_order("B1", created_ts=T0 + 5 * S))
    why = "cancelled by the operator"
    cancel = stored_order("B1", status=OrderStatus.CANCELLED, reason=why, updated_ts=T0 + 6 * S)
    await store.update_order(cancel)

    steps = await store.list_order_steps(["A1"])

    assert [(s.status, s.filled_quantity, s.step_ts) for s in steps] == [
        (OrderStatus.PENDING, 0, T0),
        (OrderStatus.OPEN, 0, T0 + S),
        (OrderStatus.PARTIALLY_FILLED, 4, T0 + 2 * S),
        (OrderStatus.FILLED, 10, T0 + 3 * S),
    ]
    (cancelled,) = [s for s in await store.list_order_steps(["B1"]) if s.status.is_terminal]
    assert (cancelled.reason, cancelled.step_ts) == (why, T0 + 6 * S)
    assert await store.list_order_steps([]) == []


async def _refusals_kept(store: Store) -> None:
    refusal = RiskAlertRecord(
        alert_ts=T0,
        severity=Severity.WARNING,
        rule="max_order_quantity",
        message="Rejected BUY 2000000 NSE:INFY from manual: ...",
        broker=Broker.PAPER,
        strategy="manual",
        symbol="NSE:INFY",
        signal_id="sig-9",
        side=Side.BUY,
        quantity=2_000_000,
        price=Decimal("1574.05"),
        reason="quantity 2000000 exceeds the per-order limit of 1000000",
    )
    halt = RiskAlertRecord(
        alert_ts=T0 + S, severity=Severity.CRITICAL, rule="daily_loss", message="HALTED"
    )
    live = msgspec.structs.replace(refusal, broker=Broker.ZERODHA, signal_id="sig-10")
    for alert in (refusal, halt, live):
        await store.add_alert(alert)

    assert await store.list_refusals(Broker.PAPER) == [refusal]
    assert await store.list_refusals(Broker.ZERODHA) == [live]
    assert len(await store.list_alerts()) == 3
