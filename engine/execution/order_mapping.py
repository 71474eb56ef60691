"""Conversions between the stored order (``OrderRecord``) and what crosses a boundary.

One place decides which fields an intent, a journaled fill, an order event and a live
venue's update carry, so the outbox row, the fill journal and the events on the bus
never disagree.
"""

from __future__ import annotations

from engine.domain.projection import project
from engine.domain.records import FillRecord, OrderRecord
from engine.events.payloads import Fill, OrderIntent, OrderUpdate
from engine.events.types import OrderStatus
from engine.execution.reports import VenueUpdate


def order_intent(order: OrderRecord) -> OrderIntent:
    """What the venue is asked to do for an outbox row."""
    return project(OrderIntent, order, not_before_ts=_not_before(order))


def _not_before(order: OrderRecord) -> int:
    """The event time after which the paper venue may fill ``order``.

    An operator's square-off is stamped with the command's wall time: any next tick may
    fill it. An MIS cut-off square-off is stamped with the event time of the tick that
    crossed the cut-off, which may fill it. Any other order fills after its signal's tick.
    """
    if order.signal_id.startswith("square-off:mis:"):
        return order.created_ts - 1
    if order.signal_id.startswith("square-off:"):
        return 0
    return order.created_ts


def fill_record(order: OrderRecord | OrderUpdate, fill: Fill) -> FillRecord:
    """The journal row of one fill of ``order`` (the outbox row, or the event that carried it)."""
    return project(
        FillRecord,
        order,
        trade_id=fill.trade_id,
        quantity=fill.quantity,
        price=fill.price,
        charges=fill.charges,
        fill_ts=fill.fill_ts,
    )


def order_update(
    order: OrderRecord,
    ts: int,
    *,
    status: OrderStatus | None = None,
    fill: Fill | None = None,
) -> OrderUpdate:
    """The lifecycle event for ``order`` as it stands (``status`` overrides, e.g. SUBMITTED)."""
    return project(OrderUpdate, order, status=status or order.status, fill=fill, update_ts=ts)


def venue_update(update: OrderUpdate) -> VenueUpdate:
    """A live venue's ``OrderUpdate`` (``ORDER_VENUE_UPDATE``) as the paper venue reports it."""
    return project(VenueUpdate, update)
