"""What a venue tells execution back: an acknowledgement per request, updates per tick."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.events.payloads import Fill
from engine.events.types import OrderStatus


class PlaceAck(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's answer to place / cancel / modify: the order's status after the request.

    ``REJECTED`` with a ``reason`` when the venue refused; a refused cancel or modify
    leaves the order as it was. ``warning`` is a partial failure of an accepted order
    (an autoslice leg Kite refused), raised as an alert in words.
    """

    client_order_id: str
    status: OrderStatus
    broker_order_id: str | None = None
    reason: str = ""
    warning: str = ""

    @property
    def accepted(self) -> bool:
        return self.status is not OrderStatus.REJECTED


class VenueUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """An order changed at the venue on its own: a fill, a stop triggered, IOC expired.

    ``filled_quantity`` is what the venue says is filled (execution stores the sum of
    the journalled trades and alerts on a gap); ``quantity``, ``price`` and
    ``trigger_price`` are the order's terms at the venue (a modify), None when unknown.
    """

    client_order_id: str
    status: OrderStatus
    filled_quantity: int
    average_price: Decimal | None = None
    fill: Fill | None = None
    reason: str = ""
    update_ts: int = 0
    quantity: int | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
