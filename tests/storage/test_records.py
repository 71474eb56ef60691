"""Round trips of the remaining records: Decimals, enums, dates, JSON and None come back exact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.domain.records import (
    AuditRecord,
    Instrument,
    PnlSnapshotRecord,
    RiskAlertRecord,
    StrategyRecord,
    TradingStateRecord,
)
from engine.events.types import Broker, Severity, TradingMode
from storage.store import SqlTradingStore
from tests.storage.factories import NS, T0

RELIANCE = Instrument(
    instrument_token=738561,
    exchange_token=2885,
    tradingsymbol="RELIANCE",
    name="RELIANCE INDUSTRIES",
    exchange="NSE",
    segment="NSE",
    instrument_type="EQ",
    tick_size=Decimal("0.05"),
    lot_size=1,
    last_price=Decimal("2450.05"),
)
NIFTY_FUT = Instrument(
    instrument_token=738561,  # exchanges reuse tokens: only exchange:tradingsymbol is unique
    exchange_token=12345,
    tradingsymbol="NIFTY26JANFUT",
    name="NIFTY",
    exchange="NFO",
    segment="NFO-FUT",
    instrument_type="FUT",
    tick_size=Decimal("0.1"),
    lot_size=75,
    expiry=date(2026, 1, 27),
    strike=Decimal("0"),
    freeze_quantity=1800,
)


async def test_instruments_upsert_by_exchange_and_symbol(store: SqlTradingStore) -> None:
    assert await store.upsert_instruments([RELIANCE, NIFTY_FUT]) == 2
    repriced = Instrument(**{**_fields(RELIANCE), "last_price": Decimal("2501.9999")})

    assert await store.upsert_instruments([repriced]) == 1

    assert await store.list_instruments() == [NIFTY_FUT, repriced]
    assert await store.list_instruments("NFO") == [NIFTY_FUT]
    assert await store.upsert_instruments([]) == 0


async def test_pnl_snapshot_latest_per_broker(store: SqlTradingStore) -> None:
    def snap(ts: int, broker: Broker = Broker.PAPER) -> PnlSnapshotRecord:
        return PnlSnapshotRecord(
            broker=broker,
            snapshot_ts=ts,
            realized_pnl=Decimal("-1234.5678"),
            unrealized_pnl=Decimal("98765432.1234"),
            charges=Decimal("0.0001"),
            cash=Decimal("1000000"),
            equity=Decimal("99999999999999.9999"),
            gross_exposure=Decimal("0"),
        )

    assert await store.latest_pnl_snapshot(Broker.PAPER) is None
    for record in (snap(T0 + 2 * NS), snap(T0 + NS), snap(T0 + 5 * NS, Broker.ZERODHA)):
        await store.add_pnl_snapshot(record)

    assert await store.latest_pnl_snapshot(Broker.PAPER) == snap(T0 + 2 * NS)


async def test_pnl_snapshot_keeps_the_trading_days_figures(store: SqlTradingStore) -> None:
    """What ``status`` and a restarted console read as day P&L comes back exact."""
    stored = PnlSnapshotRecord(
        broker=Broker.PAPER,
        snapshot_ts=T0,
        realized_pnl=Decimal("-2019.4"),
        unrealized_pnl=Decimal("500"),
        charges=Decimal("40.25"),
        cash=Decimal("997980.6"),
        equity=Decimal("998480.6"),
        gross_exposure=Decimal("24505"),
        trading_day="2026-01-05",
        day_realized_pnl=Decimal("-1000.0001"),
        day_unrealized_pnl=Decimal("250.25"),
        day_charges=Decimal("10"),
    )
    no_day = {"trading_day": "", "day_realized_pnl": None, "day_unrealized_pnl": None}
    before_day_figures = PnlSnapshotRecord(
        **{**_fields(stored), **no_day, "day_charges": None, "snapshot_ts": T0 - NS}
    )
    await store.add_pnl_snapshot(before_day_figures)
    assert await store.latest_pnl_snapshot(Broker.PAPER) == before_day_figures
    assert before_day_figures.day_pnl is None  # never the overall figures as the day's

    await store.add_pnl_snapshot(stored)

    latest = await store.latest_pnl_snapshot(Broker.PAPER)
    assert latest == stored
    assert latest is not None and latest.day_pnl == Decimal("-759.7501")


async def test_alerts_newest_first_with_optional_fields(store: SqlTradingStore) -> None:
    old = RiskAlertRecord(alert_ts=T0, severity=Severity.INFO, rule="feed", message="stale")
    new = RiskAlertRecord(
        alert_ts=T0 + NS,
        severity=Severity.CRITICAL,
        rule="daily_loss",
        message="limit hit: ₹-50,000",
        broker=Broker.ZERODHA,
        strategy="ema_cross",
        symbol="NSE:INFY",
    )
    await store.add_alert(old)
    await store.add_alert(new)

    assert await store.list_alerts() == [new, old]
    assert await store.list_alerts(limit=1) == [new]


async def test_trading_state_one_row_per_scope_survives_reopen(store: SqlTradingStore) -> None:
    halted = TradingStateRecord(
        broker=Broker.PAPER, scope="global", mode=TradingMode.HALTED, reason="kill", operator="a@h"
    )
    await store.save_trading_state(
        TradingStateRecord(broker=Broker.PAPER, scope="global", mode=TradingMode.ACTIVE)
    )
    await store.save_trading_state(halted)
    reducing = TradingStateRecord(broker=Broker.PAPER, scope="rsi", mode=TradingMode.REDUCING)
    await store.save_trading_state(reducing)

    reopened = await SqlTradingStore.open(store.engine.url.render_as_string(hide_password=False))
    async with reopened:
        assert await reopened.load_trading_states(Broker.PAPER) == [halted, reducing]
        assert await reopened.load_trading_states(Broker.ZERODHA) == []


async def test_strategy_params_and_instruments_round_trip(store: SqlTradingStore) -> None:
    ema = StrategyRecord(
        name="ema_cross",
        broker=Broker.PAPER,
        kind="ema_cross",
        params={"fast": 9, "slow": 21, "threshold": "0.5", "tags": ["a", "b"]},
        instruments=("NSE:RELIANCE", "NSE:INFY"),
    )
    await store.upsert_strategy(ema)
    disabled = StrategyRecord(
        name="ema_cross", broker=Broker.PAPER, kind="ema_cross", enabled=False
    )
    await store.upsert_strategy(disabled)
    await store.upsert_strategy(ema.__replace__(broker=Broker.ZERODHA))

    assert await store.list_strategies(Broker.PAPER) == [disabled]
    assert await store.list_strategies(Broker.ZERODHA) == [ema.__replace__(broker=Broker.ZERODHA)]


async def test_audit_newest_first(store: SqlTradingStore) -> None:
    first = AuditRecord(audit_ts=T0, actor="ravi@desk", action="kill", detail={"flatten": True})
    second = AuditRecord(audit_ts=T0 + NS, actor="ravi@desk", action="resume")
    await store.add_audit(first)
    await store.add_audit(second)

    assert await store.list_audit() == [second, first]


async def test_audit_after_a_time_by_action_prefix_oldest_first(store: SqlTradingStore) -> None:
    old = AuditRecord(audit_ts=T0, actor="ravi@desk", action="request.kill")
    kill = AuditRecord(audit_ts=T0 + 2 * NS, actor="ravi@desk", action="request.kill")
    ack = AuditRecord(audit_ts=T0 + 3 * NS, actor="engine", action="ack.kill")
    halt = AuditRecord(audit_ts=T0 + NS, actor="asha@desk", action="request.halt")
    for record in (old, kill, ack, halt):
        await store.add_audit(record)

    assert await store.list_audit_after(T0, "request.") == [halt, kill]
    assert await store.list_audit_after(T0, "request.", limit=1) == [halt]
    assert await store.list_audit_after(T0, "ack.") == [ack]
    assert await store.list_audit_after(T0 + 3 * NS, "") == []


def _fields(record: Instrument | PnlSnapshotRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__struct_fields__}
