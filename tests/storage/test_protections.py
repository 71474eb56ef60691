"""Position protections on SQLite and PostgreSQL: exact prices back, one row per position,
the fired mark kept, the other broker's rows apart, deleted on request."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.events.types import Broker
from engine.memory_store import MemoryTradingStore
from engine.protection.levels import STOP_LOSS, Protection
from storage.store import SqlTradingStore


def _protection(strategy: str = "manual", **changes: object) -> Protection:
    base = Protection(
        broker=Broker.PAPER,
        strategy=strategy,
        instrument_token=738561,
        symbol="NSE:RELIANCE",
        direction=1,
        stop_pct=Decimal("1.25"),
        target_price=Decimal("1520.05"),
        trail_amount=Decimal("7.50"),
        best_price=Decimal("1444.35"),
        operator="ops",
        set_ts=1_767_225_600_000_000_000,
    )
    return msgspec.structs.replace(base, **changes)


async def test_saved_protection_comes_back_exactly_and_replaces_by_position(
    store: SqlTradingStore,
) -> None:
    first = _protection()
    await store.save_protection(first)
    assert await store.list_protections(Broker.PAPER) == [first]

    fired = _protection(fired=STOP_LOSS, fired_ts=5, exit_signal_id="sig-1", stop_pct=None)
    await store.save_protection(fired)

    assert await store.list_protections(Broker.PAPER) == [fired]


async def test_protections_are_per_broker_and_deleted_per_position(
    store: SqlTradingStore,
) -> None:
    manual = _protection()
    momentum = _protection("momentum", direction=-1, target_price=None)
    live = _protection(broker=Broker.ZERODHA)
    for protection in (manual, momentum, live):
        await store.save_protection(protection)

    await store.delete_protection(Broker.PAPER, "manual", 738561)
    await store.delete_protection(Broker.PAPER, "manual", 738561)  # already gone: no error

    assert await store.list_protections(Broker.PAPER) == [momentum]
    assert await store.list_protections(Broker.ZERODHA) == [live]


async def test_memory_store_keeps_the_same_contract() -> None:
    store = MemoryTradingStore()
    await store.save_protection(_protection())
    fired = _protection(fired=STOP_LOSS)
    await store.save_protection(fired)
    await store.save_protection(_protection(broker=Broker.ZERODHA))

    assert await store.list_protections(Broker.PAPER) == [fired]
    await store.delete_protection(Broker.PAPER, "manual", 738561)
    assert await store.list_protections(Broker.PAPER) == []
