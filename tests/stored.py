"""Records as the engine stores them (a manual INFY order and its fills), for the tests of
storage, of the read model's seeding and of the shell's books."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.domain.records import FillRecord, OrderRecord
from engine.events.types import Broker, OrderType, Product, Side

INFY_TOKEN = 408065


def stored_order(client_order_id: str, **changes: object) -> OrderRecord:
    """A LIMIT BUY of 10 INFY at 1,574.20 (CNC), PENDING; ``changes`` replace fields."""
    order = OrderRecord(
        client_order_id=client_order_id,
        broker=Broker.PAPER,
        strategy="manual",
        signal_id=f"sig-{client_order_id}",
        instrument_token=INFY_TOKEN,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=10,
        order_type=OrderType.LIMIT,
        product=Product.CNC,
        price=Decimal("1574.20"),
    )
    return msgspec.structs.replace(order, **changes)


def stored_fill(client_order_id: str, trade_id: str, quantity: int, at: int) -> FillRecord:
    """A fill of that order at 1,574.20 with ₹0.55 charges, at ``at`` (ns)."""
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=trade_id,
        client_order_id=client_order_id,
        strategy="manual",
        instrument_token=INFY_TOKEN,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=quantity,
        price=Decimal("1574.20"),
        charges=Decimal("0.55"),
        fill_ts=at,
    )
