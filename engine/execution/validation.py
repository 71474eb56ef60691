"""Order checks every venue would make, done before an order leaves the process.

A bad order (non-positive quantity, a price off the tick grid, a limit without a price)
becomes a REJECTED order with the reason a trader can act on, never an exception.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from engine.events.types import OrderType, Side

_NEEDS_PRICE = (OrderType.LIMIT, OrderType.SL)
_NEEDS_TRIGGER = (OrderType.SL, OrderType.SL_M)


class OrderTerms(Protocol):
    """What ``order_problem_of`` reads: an outbox row or the intent sent for it."""

    @property
    def order_type(self) -> OrderType: ...
    @property
    def side(self) -> Side: ...
    @property
    def quantity(self) -> int: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def trigger_price(self) -> Decimal | None: ...


def order_problem_of(order: OrderTerms, tick_size: Decimal | None) -> str | None:
    """``order_problem`` for an order's own terms (the outbox row, or its intent)."""
    return order_problem(
        order_type=order.order_type,
        side=order.side,
        quantity=order.quantity,
        price=order.price,
        trigger_price=order.trigger_price,
        tick_size=tick_size,
    )


def order_problem(
    *,
    order_type: OrderType,
    side: Side,
    quantity: int,
    price: Decimal | None,
    trigger_price: Decimal | None,
    tick_size: Decimal | None,
) -> str | None:
    """None when the order is well formed; otherwise why not."""
    if quantity <= 0:
        return f"quantity must be positive (got {quantity})"
    if tick_size is None or tick_size <= 0:
        return "unknown tick size for this instrument"
    if order_type in _NEEDS_PRICE and price is None:
        return f"{order_type.value} order needs a price"
    if order_type in _NEEDS_TRIGGER and trigger_price is None:
        return f"{order_type.value} order needs a trigger price"
    checked = []
    if order_type in _NEEDS_PRICE:
        checked.append(("price", price))
    if order_type in _NEEDS_TRIGGER:
        checked.append(("trigger price", trigger_price))
    for label, value in checked:
        assert value is not None
        if value <= 0:
            return f"{label} must be positive (got {value})"
        if value % tick_size != 0:
            return f"{label} {value} is not a multiple of the tick size {tick_size}"
    if order_type is OrderType.SL:
        assert price is not None and trigger_price is not None
        if side is Side.BUY and trigger_price > price:
            return f"buy SL trigger {trigger_price} must not be above its limit {price}"
        if side is Side.SELL and trigger_price < price:
            return f"sell SL trigger {trigger_price} must not be below its limit {price}"
    return None
