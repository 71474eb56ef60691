"""The broker-adapter seam: execution talks to any venue through ``BrokerAdapter``.

``PaperAdapter`` wraps the in-memory ``PaperBroker``; the Zerodha adapter implements
the same protocol over Kite Connect (its ``on_tick`` returns nothing: live fills come
from order updates, not from the tick stream). An adapter subclasses ``BrokerAdapter``
to inherit its defaults (``cancel_all``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from engine.domain.records import OrderRecord
from engine.events.payloads import OrderIntent, Tick
from engine.execution.paper_broker import PaperBroker
from engine.execution.reports import PlaceAck, VenueUpdate


class BrokerAdapter(Protocol):
    """A venue execution can send orders to."""

    name: str
    # True when the venue's order book dies with the process (paper): working orders
    # found in storage at start cannot be reconciled and are cancelled instead.
    book_lost_on_restart: bool

    async def place(self, intent: OrderIntent) -> PlaceAck:
        """Send a new order; its ``client_order_id`` travels as the broker-side tag."""

    async def cancel(self, order: OrderRecord) -> PlaceAck: ...

    async def cancel_all(self, orders: Sequence[OrderRecord]) -> list[PlaceAck]:
        """Cancel each of ``orders`` (the kill switch), one answer per order in order.

        One ``cancel`` after another; a venue with a bulk cancel overrides it.
        """
        return [await self.cancel(order) for order in orders]

    async def modify(
        self,
        order: OrderRecord,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> PlaceAck: ...

    def on_tick(self, tick: Tick) -> Sequence[VenueUpdate]:
        """Fills and triggers caused by this tick (paper only; a live venue returns ())."""

    def catch_up(self, client_order_id: str) -> Sequence[VenueUpdate]:
        """Fills of a just-placed order on ticks the venue saw after its creation time
        (paper only; a live venue returns ())."""

    async def open_orders(self) -> list[str]:
        """Client order ids the venue holds as working."""

    def event_time_ns(self, instrument_token: int) -> int | None:
        """The venue's own time for an instrument, when it keeps one (paper: its newest
        tick, so a cancel on the simulated market is stamped beside the orders it ends;
        a live venue returns None: the wall clock is its time)."""


class PaperAdapter(BrokerAdapter):
    """``BrokerAdapter`` over the in-memory paper venue."""

    name = "paper"
    book_lost_on_restart = True

    def __init__(self, broker: PaperBroker | None = None) -> None:
        self.broker = broker or PaperBroker()
        if type(self).on_tick is PaperAdapter.on_tick:  # not overridden by a subclass
            # Runs for every tick: the venue's own method, one call instead of two.
            self.on_tick = self.broker.on_tick  # type: ignore[method-assign]  # on purpose, as above

    async def place(self, intent: OrderIntent) -> PlaceAck:
        return self.broker.place(intent)

    async def cancel(self, order: OrderRecord) -> PlaceAck:
        return self.broker.cancel(order.client_order_id)

    async def modify(
        self,
        order: OrderRecord,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> PlaceAck:
        return self.broker.modify(
            order.client_order_id, quantity=quantity, price=price, trigger_price=trigger_price
        )

    def on_tick(self, tick: Tick) -> Sequence[VenueUpdate]:
        return self.broker.on_tick(tick)

    def catch_up(self, client_order_id: str) -> Sequence[VenueUpdate]:
        return self.broker.catch_up(client_order_id)

    async def open_orders(self) -> list[str]:
        return self.broker.open_orders()

    def event_time_ns(self, instrument_token: int) -> int | None:
        return self.broker.last_tick_ts(instrument_token)
