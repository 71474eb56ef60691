"""Rows the engine reads and writes through ``engine.ports`` (storage implements them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from engine.domain.projection import project
from engine.events.payloads import AlertFields, PnlFigures
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side, TradingMode, Validity


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """One row of Kite's instruments dump.

    Keyed by ``exchange:tradingsymbol``, never by token: exchanges reuse tokens.
    """

    instrument_token: int
    exchange_token: int
    tradingsymbol: str
    name: str
    exchange: str
    segment: str
    instrument_type: str
    tick_size: Decimal
    lot_size: int
    last_price: Decimal = Decimal("0")
    expiry: date | None = None
    strike: Decimal = Decimal("0")
    freeze_quantity: int | None = None

    @property
    def key(self) -> str:
        return f"{self.exchange}:{self.tradingsymbol}"


class OrderRecord(msgspec.Struct, kw_only=True):
    """An order as stored (the outbox row). ``client_order_id`` is unique and fits Kite's tag."""

    client_order_id: str
    broker: Broker
    strategy: str
    signal_id: str
    instrument_token: int
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    status: OrderStatus = OrderStatus.PENDING
    filled_quantity: int = 0
    average_price: Decimal | None = None
    broker_order_id: str | None = None
    reason: str = ""
    created_ts: int = 0
    updated_ts: int = 0


class FillRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A trade. Unique per (broker, trade_id): a fill is never counted twice."""

    broker: Broker
    trade_id: str
    client_order_id: str
    strategy: str
    instrument_token: int
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    charges: Decimal
    fill_ts: int


class PositionRecord(msgspec.Struct, kw_only=True):
    """Net position of one strategy in one instrument on one broker."""

    broker: Broker
    strategy: str
    instrument_token: int
    symbol: str
    net_quantity: int = 0
    average_price: Decimal = Decimal("0")
    realized_pnl: Decimal = Decimal("0")
    charges: Decimal = Decimal("0")
    last_price: Decimal | None = None
    updated_ts: int = 0


class PnlSnapshotRecord(PnlFigures, frozen=True, kw_only=True):
    """A stored ``PnlSnapshot``, without its positions but with the market it was marked
    at: ``marks``, each instrument's last price and previous close by token (see
    ``engine.portfolio.marks``), so a restart values the positions and resumes the
    simulated market where they stood; empty in rows stored before they were kept."""

    marks: dict[str, list[str | None]] = msgspec.field(default_factory=dict)


class RiskAlertRecord(AlertFields, frozen=True, kw_only=True):
    """A risk alert as stored; one that refused a signal also keeps what it refused
    (signal id, side, quantity, price and the rule's reason), so the orders book still
    lists the refusal after a restart."""

    alert_ts: int
    signal_id: str | None = None
    side: Side | None = None
    quantity: int | None = None
    price: Decimal | None = None
    reason: str | None = None


class OrderStepRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One status an order moved to, stored with the order's row in the same write, so
    the orders book shows every transition after a restart (the row keeps only the
    last). One per (order, status, filled quantity): a redelivered update adds none."""

    broker: Broker
    client_order_id: str
    status: OrderStatus
    filled_quantity: int
    reason: str
    step_ts: int


def order_step(order: OrderRecord) -> OrderStepRecord:
    """The status ``order`` is in now, as a step of its history (stamped with the order's
    last update, or its creation for the outbox write)."""
    return project(OrderStepRecord, order, step_ts=order.updated_ts or order.created_ts)


class TradingStateRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Persisted trading state: a restart after the kill switch stays halted."""

    broker: Broker
    scope: str  # "global" or a strategy name
    mode: TradingMode
    reason: str = ""
    operator: str = ""
    changed_ts: int = 0


class StrategyRecord(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    broker: Broker
    kind: str  # ema_cross, momentum, mean_reversion, rsi
    params: dict[str, object] = msgspec.field(default_factory=dict)
    instruments: tuple[str, ...] = ()  # "EXCHANGE:TRADINGSYMBOL"
    enabled: bool = True


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    audit_ts: int
    actor: str  # operator identity: user@host
    action: str
    detail: dict[str, object] = msgspec.field(default_factory=dict)
