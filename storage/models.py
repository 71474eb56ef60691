"""SQLAlchemy tables for everything the engine stores; one schema for SQLite and PostgreSQL.

Money is ``Numeric(18, 4)`` (fixed-point text on SQLite, see ``storage.money``) so
Decimals come back exact, timestamps are UTC nanoseconds in
``BigInteger`` and enums are plain strings, so neither engine needs native enum types and
Alembic migrations stay portable. Constraint names follow one convention, so migrations
(and SQLite batch mode, which needs names) can refer to them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from storage.money import Money

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every Decimal column is money (``Mapped[Decimal]`` needs no column of its own), so
    # none can miss the exact SQLite storage ``Money`` gives it.
    type_annotation_map = {Decimal: Money()}


def _id(sort_order: int = 0) -> Mapped[int]:
    return mapped_column(RowId, primary_key=True, autoincrement=True, sort_order=sort_order)


class InstrumentRow(Base):
    """Keyed by exchange + tradingsymbol; the token is indexed but exchanges reuse it."""

    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("exchange", "tradingsymbol"),)

    id: Mapped[int] = _id()
    instrument_token: Mapped[int] = mapped_column(BigInteger, index=True)
    exchange_token: Mapped[int] = mapped_column(BigInteger)
    tradingsymbol: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    exchange: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str] = mapped_column(String(32))
    instrument_type: Mapped[str] = mapped_column(String(16))
    tick_size: Mapped[Decimal]
    lot_size: Mapped[int] = mapped_column(Integer)
    last_price: Mapped[Decimal]
    expiry: Mapped[date | None] = mapped_column(Date)
    strike: Mapped[Decimal]
    freeze_quantity: Mapped[int | None] = mapped_column(Integer)


class StrategyRow(Base):
    __tablename__ = "strategies"
    __table_args__ = (UniqueConstraint("broker", "name"),)

    id: Mapped[int] = _id()
    broker: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    instruments: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)


class OrderRow(Base):
    """The outbox: written before an order leaves the process."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("client_order_id"),
        Index("ix_orders_broker_status", "broker", "status"),
    )

    id: Mapped[int] = _id()
    client_order_id: Mapped[str] = mapped_column(String(32))
    broker: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(64))
    signal_id: Mapped[str] = mapped_column(String(64))
    instrument_token: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)
    order_type: Mapped[str] = mapped_column(String(8))
    product: Mapped[str] = mapped_column(String(8))
    validity: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal | None]
    trigger_price: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(24))
    filled_quantity: Mapped[int] = mapped_column(Integer)
    average_price: Mapped[Decimal | None]
    broker_order_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    created_ts: Mapped[int] = mapped_column(BigInteger)
    updated_ts: Mapped[int] = mapped_column(BigInteger)


class FillRow(Base):
    """A trade; (broker, trade_id) is unique so a fill is never counted twice."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("broker", "trade_id"),)

    id: Mapped[int] = _id()
    broker: Mapped[str] = mapped_column(String(16))
    trade_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(String(32), index=True)
    strategy: Mapped[str] = mapped_column(String(64))
    instrument_token: Mapped[int] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal]
    charges: Mapped[Decimal]
    fill_ts: Mapped[int] = mapped_column(BigInteger)


class _PositionKeyed:
    """One row per (broker, strategy, instrument): the id and the key's columns, first in
    the table (``sort_order`` puts a mixin's columns before the class's own)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("broker", "strategy", "instrument_token"),)

    id: Mapped[int] = _id(sort_order=-1)
    broker: Mapped[str] = mapped_column(String(16), sort_order=-1)
    strategy: Mapped[str] = mapped_column(String(64), sort_order=-1)
    instrument_token: Mapped[int] = mapped_column(BigInteger, sort_order=-1)
    symbol: Mapped[str] = mapped_column(String(64), sort_order=-1)


class PositionRow(_PositionKeyed, Base):
    __tablename__ = "positions"

    net_quantity: Mapped[int] = mapped_column(Integer)
    average_price: Mapped[Decimal]
    realized_pnl: Mapped[Decimal]
    charges: Mapped[Decimal]
    last_price: Mapped[Decimal | None]
    updated_ts: Mapped[int] = mapped_column(BigInteger)


class PnlSnapshotRow(Base):
    __tablename__ = "pnl_snapshots"
    __table_args__ = (Index("ix_pnl_snapshots_broker_snapshot_ts", "broker", "snapshot_ts"),)

    id: Mapped[int] = _id()
    broker: Mapped[str] = mapped_column(String(16))
    snapshot_ts: Mapped[int] = mapped_column(BigInteger)
    realized_pnl: Mapped[Decimal]
    unrealized_pnl: Mapped[Decimal]
    charges: Mapped[Decimal]
    cash: Mapped[Decimal]
    equity: Mapped[Decimal]
    gross_exposure: Mapped[Decimal]
    # The trading day's figures; NULL in rows stored before they were kept (0002).
    trading_day: Mapped[date | None] = mapped_column(Date)
    day_realized_pnl: Mapped[Decimal | None]
    day_unrealized_pnl: Mapped[Decimal | None]
    day_charges: Mapped[Decimal | None]
    # The snapshot's time on the market's clock (the simulated market's event time);
    # NULL in rows stored before it was kept (0005).
    event_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Each instrument's last price and previous close the snapshot was valued at
    # (engine.portfolio.marks); NULL in rows stored before they were kept (0006).
    marks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class RiskAlertRow(Base):
    __tablename__ = "risk_alerts"

    id: Mapped[int] = _id()
    alert_ts: Mapped[int] = mapped_column(BigInteger, index=True)
    severity: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    broker: Mapped[str | None] = mapped_column(String(16))
    strategy: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str | None] = mapped_column(String(64))
    # a refusal of a signal: what was refused (NULL on other alerts)
    signal_id: Mapped[str | None] = mapped_column(String(64))
    side: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal | None]
    reason: Mapped[str | None] = mapped_column(Text)


class OrderStepRow(Base):
    """Each status an order moved to (the orders row keeps only the last), written in the
    same transaction as the order's row."""

    __tablename__ = "order_steps"
    __table_args__ = (UniqueConstraint("client_order_id", "status", "filled_quantity"),)

    id: Mapped[int] = _id()
    broker: Mapped[str] = mapped_column(String(16))
    client_order_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    filled_quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    step_ts: Mapped[int] = mapped_column(BigInteger)


class TradingStateRow(Base):
    """One row per (broker, scope): a restart after the kill switch stays halted."""

    __tablename__ = "trading_state"
    __table_args__ = (UniqueConstraint("broker", "scope"),)

    id: Mapped[int] = _id()
    broker: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(128))
    changed_ts: Mapped[int] = mapped_column(BigInteger)


class ProcessedEventRow(Base):
    """The persisted dedup window, written in the same transaction as each effect."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("consumer_group", "event_id"),)

    id: Mapped[int] = _id()
    consumer_group: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[str] = mapped_column(String(64))
    processed_ts: Mapped[int] = mapped_column(BigInteger, index=True)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = _id()
    audit_ts: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class ProtectionRow(_PositionKeyed, Base):
    """A position's stop-loss, target and trailing stop (``engine.protection``): one row
    per (broker, strategy, instrument), dropped when the position closes or flips."""

    __tablename__ = "position_protections"

    direction: Mapped[int] = mapped_column(Integer)
    stop_price: Mapped[Decimal | None]
    stop_pct: Mapped[Decimal | None]
    target_price: Mapped[Decimal | None]
    target_pct: Mapped[Decimal | None]
    trail_amount: Mapped[Decimal | None]
    trail_pct: Mapped[Decimal | None]
    best_price: Mapped[Decimal | None]
    fired: Mapped[str] = mapped_column(String(32))
    fired_ts: Mapped[int] = mapped_column(BigInteger)
    exit_signal_id: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(128))
    set_ts: Mapped[int] = mapped_column(BigInteger)
