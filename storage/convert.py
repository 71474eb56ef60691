"""Rows <-> engine records: enums as their string values, Decimals and None kept exactly.

Each record maps to a plain ``dict`` of column values (what ``insert().values`` takes)
and back from an ORM row, so repositories never copy fields by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.domain.records import (
    AuditRecord,
    FillRecord,
    Instrument,
    OrderRecord,
    PnlSnapshotRecord,
    PositionRecord,
    RiskAlertRecord,
    StrategyRecord,
    TradingStateRecord,
)
from engine.events.types import (
    Broker,
    OrderStatus,
    OrderType,
    Product,
    Severity,
    Side,
    TradingMode,
    Validity,
)
from storage.models import (
    AuditRow,
    FillRow,
    InstrumentRow,
    OrderRow,
    PnlSnapshotRow,
    PositionRow,
    RiskAlertRow,
    StrategyRow,
    TradingStateRow,
)

Values = dict[str, Any]


def _fields(record: Any) -> Values:
    """Struct fields as column values; StrEnum members become plain strings."""
    values: Values = {}
    for name in record.__struct_fields__:
        value = getattr(record, name)
        values[name] = str(value) if isinstance(value, str) else value
    return values


def _dec(value: Decimal | None) -> Decimal | None:
    """Normalise the column scale away so ``Decimal("1.5")`` reads back as ``1.5``."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return Decimal(text)


def instrument_values(inst: Instrument) -> Values:
    return _fields(inst)


def instrument_from_row(row: InstrumentRow) -> Instrument:
    return Instrument(
        instrument_token=row.instrument_token,
        exchange_token=row.exchange_token,
        tradingsymbol=row.tradingsymbol,
        name=row.name,
        exchange=row.exchange,
        segment=row.segment,
        instrument_type=row.instrument_type,
        tick_size=_dec(row.tick_size),
        lot_size=row.lot_size,
        last_price=_dec(row.last_price),
        expiry=row.expiry,
        strike=_dec(row.strike),
        freeze_quantity=row.freeze_quantity,
    )


def order_values(order: OrderRecord) -> Values:
    return _fields(order)


def order_from_row(row: OrderRow) -> OrderRecord:
    return OrderRecord(
        client_order_id=row.client_order_id,
        broker=Broker(row.broker),
        strategy=row.strategy,
        signal_id=row.signal_id,
        instrument_token=row.instrument_token,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        order_type=OrderType(row.order_type),
        product=Product(row.product),
        validity=Validity(row.validity),
        price=_dec(row.price),
        trigger_price=_dec(row.trigger_price),
        status=OrderStatus(row.status),
        filled_quantity=row.filled_quantity,
        average_price=_dec(row.average_price),
        broker_order_id=row.broker_order_id,
        reason=row.reason,
        created_ts=row.created_ts,
        updated_ts=row.updated_ts,
    )


def fill_values(fill: FillRecord) -> Values:
    return _fields(fill)


def fill_from_row(row: FillRow) -> FillRecord:
    return FillRecord(
        broker=Broker(row.broker),
        trade_id=row.trade_id,
        client_order_id=row.client_order_id,
        strategy=row.strategy,
        instrument_token=row.instrument_token,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        price=_dec(row.price),
        charges=_dec(row.charges),
        fill_ts=row.fill_ts,
    )


def position_values(pos: PositionRecord) -> Values:
    return _fields(pos)


def position_from_row(row: PositionRow) -> PositionRecord:
    return PositionRecord(
        broker=Broker(row.broker),
        strategy=row.strategy,
        instrument_token=row.instrument_token,
        symbol=row.symbol,
        net_quantity=row.net_quantity,
        average_price=_dec(row.average_price),
        realized_pnl=_dec(row.realized_pnl),
        charges=_dec(row.charges),
        last_price=_dec(row.last_price),
        updated_ts=row.updated_ts,
    )


def snapshot_values(snap: PnlSnapshotRecord) -> Values:
    values = _fields(snap)
    values["trading_day"] = date.fromisoformat(snap.trading_day) if snap.trading_day else None
    return values


def snapshot_from_row(row: PnlSnapshotRow) -> PnlSnapshotRecord:
    return PnlSnapshotRecord(
        broker=Broker(row.broker),
        snapshot_ts=row.snapshot_ts,
        realized_pnl=_dec(row.realized_pnl),
        unrealized_pnl=_dec(row.unrealized_pnl),
        charges=_dec(row.charges),
        cash=_dec(row.cash),
        equity=_dec(row.equity),
        gross_exposure=_dec(row.gross_exposure),
        trading_day=row.trading_day.isoformat() if row.trading_day is not None else "",
        day_realized_pnl=_dec(row.day_realized_pnl),
        day_unrealized_pnl=_dec(row.day_unrealized_pnl),
        day_charges=_dec(row.day_charges),
    )


def alert_values(alert: RiskAlertRecord) -> Values:
    return _fields(alert)


def alert_from_row(row: RiskAlertRow) -> RiskAlertRecord:
    return RiskAlertRecord(
        alert_ts=row.alert_ts,
        severity=Severity(row.severity),
        rule=row.rule,
        message=row.message,
        broker=Broker(row.broker) if row.broker is not None else None,
        strategy=row.strategy,
        symbol=row.symbol,
    )


def state_values(state: TradingStateRecord) -> Values:
    return _fields(state)


def state_from_row(row: TradingStateRow) -> TradingStateRecord:
    return TradingStateRecord(
        broker=Broker(row.broker),
        scope=row.scope,
        mode=TradingMode(row.mode),
        reason=row.reason,
        operator=row.operator,
        changed_ts=row.changed_ts,
    )


def strategy_values(strategy: StrategyRecord) -> Values:
    values = _fields(strategy)
    values["params"] = dict(strategy.params)
    values["instruments"] = list(strategy.instruments)
    return values


def strategy_from_row(row: StrategyRow) -> StrategyRecord:
    return StrategyRecord(
        name=row.name,
        broker=Broker(row.broker),
        kind=row.kind,
        params=dict(row.params or {}),
        instruments=tuple(row.instruments or ()),
        enabled=bool(row.enabled),
    )


def audit_values(record: AuditRecord) -> Values:
    values = _fields(record)
    values["detail"] = dict(record.detail)
    return values


def audit_from_row(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        audit_ts=row.audit_ts, actor=row.actor, action=row.action, detail=dict(row.detail or {})
    )
