"""How a venue update moves a stored order: forward only, filled only by journalled trades.

A venue's word on an order (its status, its cumulative ``filled_quantity``) is a claim;
the trades are the facts. So the stored ``filled_quantity`` is the sum of the trades the
journal holds, a terminal status whose trades are not all journalled yet keeps the order
working (reconciling) until they add up, and a status that would move the order back in
its life (OPEN after PARTIALLY_FILLED, SUBMITTED after OPEN) is ignored.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.domain.records import OrderRecord
from engine.events.payloads import Fill
from engine.events.types import OrderStatus
from engine.execution.reports import VenueUpdate

_AVG = Decimal("0.0001")
_RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.UNKNOWN: 0,
    OrderStatus.SUBMITTED: 1,
    OrderStatus.OPEN: 2,
    OrderStatus.TRIGGER_PENDING: 2,  # a stop may be modified back into a stop
    OrderStatus.PARTIALLY_FILLED: 3,
    OrderStatus.FILLED: 4,
    OrderStatus.CANCELLED: 4,
    OrderStatus.REJECTED: 4,
}


def moves_back(current: OrderStatus, proposed: OrderStatus) -> bool:
    """True when ``proposed`` is earlier in an order's life than ``current``."""
    if current.is_terminal:
        return proposed is not current
    return _RANK[proposed] < _RANK[current]


def next_status(
    current: OrderStatus,
    proposed: OrderStatus,
    *,
    filled: int,
    quantity: int,
    venue_filled: int,
) -> OrderStatus:
    """The status to store, given the journalled ``filled`` and the venue's claim.

    Journalled trades that add up to the quantity make the order FILLED whatever was
    said; a final state is kept (late trades only add quantity); FILLED, or a
    cancellation or rejection whose venue-reported fills are not all journalled, keeps
    the order working; anything earlier in the order's life than now is ignored.
    """
    if quantity and filled >= quantity:
        return OrderStatus.FILLED
    if current.is_terminal:
        return current
    if proposed.is_terminal and (proposed is OrderStatus.FILLED or filled < venue_filled):
        return _working(current, filled)
    if proposed.is_terminal:
        return proposed
    if moves_back(current, proposed):
        return _working(current, filled)
    return _working(proposed, filled)


def _working(status: OrderStatus, filled: int) -> OrderStatus:
    return OrderStatus.PARTIALLY_FILLED if filled else status


def advance(order: OrderRecord, update: VenueUpdate, fill: Fill | None) -> OrderRecord:
    """A copy of ``order`` with ``update`` applied (and ``fill`` added to what is filled)."""
    after = msgspec.structs.replace(order)
    if fill is not None:
        filled = order.filled_quantity + fill.quantity
        if update.average_price is not None and update.filled_quantity == filled:
            after.average_price = update.average_price  # the venue agrees with the journal
        else:
            notional = (order.average_price or Decimal("0")) * order.filled_quantity
            after.average_price = ((notional + fill.price * fill.quantity) / filled).quantize(_AVG)
        after.filled_quantity = filled
    if update.quantity and update.quantity >= after.filled_quantity:
        after.quantity = update.quantity
    if update.price is not None:
        after.price = update.price
    if update.trigger_price is not None:
        after.trigger_price = update.trigger_price
    after.status = next_status(
        order.status,
        update.status,
        filled=after.filled_quantity,
        quantity=after.quantity,
        venue_filled=update.filled_quantity,
    )
    if update.reason and after.status is update.status:
        after.reason = update.reason
    if update.update_ts:
        after.updated_ts = update.update_ts
    return after


def changed(before: OrderRecord, after: OrderRecord) -> bool:
    """True when an update changed something worth storing (not just its time)."""
    return (
        before.status,
        before.filled_quantity,
        before.quantity,
        before.price,
        before.trigger_price,
        before.reason,
    ) != (
        after.status,
        after.filled_quantity,
        after.quantity,
        after.price,
        after.trigger_price,
        after.reason,
    )


def modified(before: OrderRecord, after: OrderRecord) -> bool:
    """True when the venue changed the order's terms (a modify), not its progress."""
    return (before.quantity, before.price, before.trigger_price) != (
        after.quantity,
        after.price,
        after.trigger_price,
    )


def fill_gap_message(order: OrderRecord, venue_filled: int) -> str:
    """The alert text for a venue whose filled quantity differs from the journal."""
    journal = order.filled_quantity
    head = (
        f"order {order.client_order_id} ({order.side.value} {order.quantity} {order.symbol}): "
        f"the broker reports {venue_filled} filled but the journal holds {journal} "
        "from its trades"
    )
    if venue_filled > journal:
        return f"{head}; the order stays {order.status.value} until the missing trades arrive"
    return f"{head}; more trades than the broker reports: check the trade book"


def fill_gap_closed_message(order: OrderRecord) -> str:
    """The alert text once the journal agrees with the broker again."""
    return (
        f"order {order.client_order_id} ({order.symbol}): the trades now add up, "
        f"{order.filled_quantity} journalled, order {order.status.value}"
    )
