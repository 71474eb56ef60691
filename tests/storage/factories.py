"""Records with realistic defaults; tests override only what they are about."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.domain.records import FillRecord, OrderRecord, PositionRecord
from engine.events.types import Broker, OrderType, Product, Side

NS = 1_000_000_000
T0 = 1_767_225_600 * NS


def make_order(client_order_id: str = "AP1", **overrides: Any) -> OrderRecord:
    values: dict[str, Any] = {
        "client_order_id": client_order_id,
        "broker": Broker.PAPER,
        "strategy": "ema_cross",
        "signal_id": f"sig-{client_order_id}",
        "instrument_token": 738561,
        "symbol": "NSE:RELIANCE",
        "side": Side.BUY,
        "quantity": 10,
        "order_type": OrderType.LIMIT,
        "product": Product.MIS,
        "price": Decimal("2450.05"),
        "created_ts": T0,
        "updated_ts": T0,
    }
    values.update(overrides)
    return OrderRecord(**values)


def make_fill(trade_id: str = "T1", **overrides: Any) -> FillRecord:
    values: dict[str, Any] = {
        "broker": Broker.PAPER,
        "trade_id": trade_id,
        "client_order_id": "AP1",
        "strategy": "ema_cross",
        "instrument_token": 738561,
        "symbol": "NSE:RELIANCE",
        "side": Side.BUY,
        "quantity": 10,
        "price": Decimal("2450.05"),
        "charges": Decimal("12.3456"),
        "fill_ts": T0 + NS,
    }
    values.update(overrides)
    return FillRecord(**values)


def make_position(net_quantity: int = 10, **overrides: Any) -> PositionRecord:
    values: dict[str, Any] = {
        "broker": Broker.PAPER,
        "strategy": "ema_cross",
        "instrument_token": 738561,
        "symbol": "NSE:RELIANCE",
        "net_quantity": net_quantity,
        "average_price": Decimal("2450.05"),
        "realized_pnl": Decimal("-123.4567"),
        "charges": Decimal("12.3456"),
        "last_price": Decimal("2451.10"),
        "updated_ts": T0 + NS,
    }
    values.update(overrides)
    return PositionRecord(**values)
