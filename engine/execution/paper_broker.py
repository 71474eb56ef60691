"""``PaperBroker``: an in-memory venue that fills orders from the tick stream.

The book is indexed by instrument token so a tick for an instrument with no working
orders costs one dict lookup: it runs on every tick of a backtest. Everything is
deterministic (no clock, no randomness): trade ids derive from the client order id
and the fill's index, so replaying the same ticks gives the same fills and a restarted
session never reuses a trade id.

An order above the freeze quantity is sliced as Kite's autoslice would slice it
(``legs_of``): each leg fills on its own in turn, from the tick's size the fill model
allows for the whole order, with brokerage capped per leg (each is an exchange order),
and the client order reports the legs' summed fills.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal

import msgspec

from engine.events.payloads import Fill, OrderIntent, Tick
from engine.events.types import OrderStatus, OrderType, Validity
from engine.execution.charges import ChargesModel
from engine.execution.fill_model import FillModel, stop_triggered
from engine.execution.reports import PlaceAck, VenueUpdate
from engine.execution.validation import order_problem, order_problem_of

TickSizeOf = Callable[[int], Decimal | None]
LegsOf = Callable[[int, int], Sequence[int]]  # (instrument token, quantity) -> leg sizes
_NO_UPDATES: tuple[VenueUpdate, ...] = ()
_STOPS = (OrderType.SL, OrderType.SL_M)
_AT_MARKET = (OrderType.MARKET, OrderType.SL_M)
_AVG = Decimal("0.0001")


class _Working(msgspec.Struct):
    """One order on the paper book, with its fill progress (a struct: cheap to build)."""

    intent: OrderIntent
    quantity: int
    price: Decimal | None
    trigger_price: Decimal | None
    tick_size: Decimal
    legs: list[int] = msgspec.field(default_factory=list)  # sizes, Kite's autoslice
    leg_filled: list[int] = msgspec.field(default_factory=list)
    leg_brokerage: list[Decimal] = msgspec.field(default_factory=list)  # capped per leg
    filled: int = 0
    traded_value: Decimal = Decimal("0")
    fills: int = 0
    triggered: bool = False
    resting: bool = False  # has sat through a tick without filling: a maker now
    caught_up: bool = False  # recent ticks after ``not_before_ts`` already replayed

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled

    def slice_as(self, sizes: Sequence[int]) -> None:
        self.legs = list(sizes)
        self.leg_filled = [0] * len(sizes)
        self.leg_brokerage = [Decimal("0")] * len(sizes)

    def take(self, quantity: int) -> list[tuple[int, int]]:
        """``quantity`` spread over the legs in order: (leg index, quantity) pairs."""
        parts = []
        for leg, size in enumerate(self.legs):
            part = min(size - self.leg_filled[leg], quantity)
            if part > 0:
                parts.append((leg, part))
                quantity -= part
        return parts

    @property
    def average_price(self) -> Decimal | None:
        if not self.filled:
            return None
        return (self.traded_value / self.filled).quantize(_AVG)

    @property
    def status(self) -> OrderStatus:
        if self.intent.order_type in _STOPS and not self.triggered:
            return OrderStatus.TRIGGER_PENDING
        return OrderStatus.PARTIALLY_FILLED if self.filled else OrderStatus.OPEN


class PaperBroker:
    """Market, limit, SL and SL-M orders against the tick stream, with charges per fill."""

    def __init__(
        self,
        *,
        fill_model: FillModel | None = None,
        charges: ChargesModel | None = None,
        tick_size_of: TickSizeOf | None = None,
        default_tick_size: Decimal = Decimal("0.05"),
        recent_ticks: int = 32,
        legs_of: LegsOf | None = None,
    ) -> None:
        self.fill_model = fill_model or FillModel()
        self.recent_ticks = recent_ticks  # per instrument, for orders that arrive late
        self.charges = charges or ChargesModel()
        self._tick_size_of = tick_size_of
        self._default_tick_size = default_tick_size
        self._legs_of = legs_of or (lambda _token, quantity: (quantity,))
        self._orders: dict[str, _Working] = {}
        self._recent: dict[int, deque[Tick]] = {}
        self._by_token: dict[int, dict[str, _Working]] = {}
        self._surcharges: dict[str, Decimal] = {}  # client order id -> charged on 1st fill

    def surcharge(self, client_order_id: str, amount: Decimal) -> None:
        """Charge ``amount`` once more with the order's first fill (an auto square-off's
        call-and-trade fee, which Zerodha charges per order on top of brokerage)."""
        self._surcharges[client_order_id] = amount

    def slice_with(self, legs_of: LegsOf) -> None:
        """How orders split at the exchange (the run's freeze policy), as Kite's autoslice."""
        self._legs_of = legs_of

    def tick_size(self, instrument_token: int) -> Decimal | None:
        if self._tick_size_of is None:
            return self._default_tick_size
        return self._tick_size_of(instrument_token)

    # -- requests -----------------------------------------------------------------
    def place(self, intent: OrderIntent) -> PlaceAck:
        coid = intent.client_order_id
        if coid in self._orders:
            return self._ack(coid, OrderStatus.REJECTED, "duplicate client order id")
        tick_size = self.tick_size(intent.instrument_token)
        problem = order_problem_of(intent, tick_size)
        if problem is not None or tick_size is None:
            return self._ack(coid, OrderStatus.REJECTED, problem or "unknown tick size")
        order = _Working(
            intent=intent,
            quantity=intent.quantity,
            price=intent.price if intent.order_type not in _AT_MARKET else None,
            trigger_price=intent.trigger_price,
            tick_size=tick_size,
            # Stamped with wall time (square-offs): no event time to replay from, so the
            # next tick fills it, never a stale one from the recent ticks.
            caught_up=not intent.not_before_ts,
        )
        sizes = list(self._legs_of(intent.instrument_token, intent.quantity))
        if sum(sizes) != intent.quantity or min(sizes) < 1:
            sizes = [intent.quantity]  # a split that loses quantity is never used
        order.slice_as(sizes)
        self._orders[coid] = order
        self._by_token.setdefault(intent.instrument_token, {})[coid] = order
        reason = ""
        if len(sizes) > 1:
            reason = f"autoslice: {len(sizes)} legs ({', '.join(map(str, sizes))})"
        return self._ack(coid, order.status, reason)

    def cancel(self, client_order_id: str) -> PlaceAck:
        order = self._orders.get(client_order_id)
        if order is None:
            return self._ack(client_order_id, OrderStatus.REJECTED, "order is not open")
        self._remove(order)
        return self._ack(client_order_id, OrderStatus.CANCELLED)

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: int | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> PlaceAck:
        """Change quantity, price or trigger; a new price makes the order a taker again."""
        order = self._orders.get(client_order_id)
        if order is None:
            return self._ack(client_order_id, OrderStatus.REJECTED, "order is not open")
        kind = order.intent.order_type
        new_quantity = order.quantity if quantity is None else quantity
        new_price = order.price if price is None or kind in _AT_MARKET else price
        new_trigger = order.trigger_price if trigger_price is None else trigger_price
        problem = order_problem(
            order_type=kind,
            side=order.intent.side,
            quantity=new_quantity,
            price=new_price,
            trigger_price=new_trigger,
            tick_size=order.tick_size,
        )
        if problem is None and new_quantity <= order.filled:
            problem = f"quantity {new_quantity} is not above the filled {order.filled}"
        if problem is None and len(order.legs) > 1 and new_quantity != order.quantity:
            problem = (
                f"the order is {len(order.legs)} autoslice legs: its quantity cannot change; "
                "cancel it and place a new one"
            )
        if problem is not None:
            return self._ack(client_order_id, OrderStatus.REJECTED, problem)
        if new_price != order.price:
            order.resting = False
        if len(order.legs) == 1:
            order.legs[0] = new_quantity
        order.quantity, order.price, order.trigger_price = new_quantity, new_price, new_trigger
        return self._ack(client_order_id, order.status)

    def open_orders(self) -> list[str]:
        return list(self._orders)

    def has_order(self, client_order_id: str) -> bool:
        return client_order_id in self._orders

    def catch_up(self, client_order_id: str) -> Sequence[VenueUpdate]:
        """Match a just-placed order against the recent ticks after its creation time.

        Execution reads ticks on its own, usually ahead of the signal path (always over
        Kafka under load): the tick after the signal has often passed the venue already.
        Matching on placement fills the order on that tick at once, instead of when the
        instrument next trades (at the end of a replay, never); same tick, same price.
        """
        order = self._orders.get(client_order_id)
        if order is None or order.caught_up:
            return _NO_UPDATES
        order.caught_up = True
        recent = self._recent.get(order.intent.instrument_token)
        not_before = order.intent.not_before_ts
        if not recent or recent[-1].exchange_ts <= not_before:
            return _NO_UPDATES
        updates: list[VenueUpdate] = []
        for seen in recent:
            if seen.exchange_ts > not_before and client_order_id in self._orders:
                self._match(order, seen, updates)
        return updates

    def last_price(self, instrument_token: int) -> Decimal | None:
        """The newest price the venue saw for the instrument (funds value market orders)."""
        recent = self._recent.get(instrument_token)
        return recent[-1].last_price if recent else None

    def last_tick_ts(self, instrument_token: int) -> int | None:
        """Event time of the newest tick the venue saw for the instrument."""
        recent = self._recent.get(instrument_token)
        return recent[-1].exchange_ts if recent else None

    # -- the tick path ------------------------------------------------------------
    def on_tick(self, tick: Tick) -> Sequence[VenueUpdate]:
        """Match working orders against ``tick``, in event time.

        An order fills only on ticks strictly after the event time it was created at
        (``not_before_ts``): first on the recent ticks it missed because the venue had
        already seen them, then on this one. So a fill never uses a price from before the
        order existed, and it does not depend on how far execution lags the feed.
        """
        token = tick.instrument_token
        recent = self._recent.get(token)
        if recent is None:
            recent = self._recent[token] = deque(maxlen=self.recent_ticks)
        book = self._by_token.get(token)
        if not book:
            recent.append(tick)
            return _NO_UPDATES
        updates: list[VenueUpdate] = []
        for order in list(book.values()):
            not_before = order.intent.not_before_ts
            if not order.caught_up:
                order.caught_up = True
                for seen in recent:
                    if seen.exchange_ts > not_before and order.intent.client_order_id in book:
                        self._match(order, seen, updates)
            if order.intent.client_order_id in book and tick.exchange_ts > not_before:
                self._match(order, tick, updates)
        recent.append(tick)
        return updates

    def _match(self, order: _Working, tick: Tick, updates: list[VenueUpdate]) -> None:
        intent = order.intent
        if intent.order_type in _STOPS and not order.triggered:
            assert order.trigger_price is not None
            if not stop_triggered(intent.side, order.trigger_price, tick.last_price):
                return
            order.triggered = True
            updates.append(self._update(order, tick, reason="stop triggered"))
        price = self._fill_price(order, tick)
        if price is not None:
            quantity = self.fill_model.available(intent.side, tick, order.remaining)
            for leg, part in order.take(quantity):
                updates.append(self._fill(order, tick, part, price, leg))
        order.resting = True
        if order.remaining and intent.validity is Validity.IOC:
            self._remove(order)
            updates.append(
                self._update(order, tick, OrderStatus.CANCELLED, "IOC: unfilled quantity cancelled")
            )

    def _fill_price(self, order: _Working, tick: Tick) -> Decimal | None:
        side = order.intent.side
        if order.price is None:
            return self.fill_model.market_price(side, tick, order.tick_size)
        return self.fill_model.limit_price(side, order.price, tick, resting=order.resting)

    def _fill(
        self, order: _Working, tick: Tick, quantity: int, price: Decimal, leg: int = 0
    ) -> VenueUpdate:
        intent = order.intent
        breakdown = self.charges.compute(
            intent.side,
            quantity,
            price,
            intent.product,
            brokerage_charged=order.leg_brokerage[leg],
        )
        order.leg_brokerage[leg] += breakdown.brokerage
        order.leg_filled[leg] += quantity
        order.fills += 1
        order.filled += quantity
        order.traded_value += price * quantity
        extra = self._surcharges.pop(intent.client_order_id, None) if self._surcharges else None
        fill = Fill(
            trade_id=f"P{intent.client_order_id}-{order.fills}",
            quantity=quantity,
            price=price,
            charges=breakdown.total if extra is None else breakdown.total + extra,
            fill_ts=tick.exchange_ts,
        )
        status = OrderStatus.PARTIALLY_FILLED
        if not order.remaining:
            status = OrderStatus.FILLED
            self._remove(order)
        return self._update(order, tick, status, fill=fill)

    def _update(
        self,
        order: _Working,
        tick: Tick,
        status: OrderStatus | None = None,
        reason: str = "",
        fill: Fill | None = None,
    ) -> VenueUpdate:
        return VenueUpdate(
            client_order_id=order.intent.client_order_id,
            status=status or order.status,
            filled_quantity=order.filled,
            average_price=order.average_price,
            fill=fill,
            reason=reason,
            update_ts=tick.exchange_ts,
        )

    def _remove(self, order: _Working) -> None:
        coid = order.intent.client_order_id
        self._orders.pop(coid, None)
        book = self._by_token.get(order.intent.instrument_token)
        if book is not None:
            book.pop(coid, None)
            if not book:
                del self._by_token[order.intent.instrument_token]

    @staticmethod
    def _ack(coid: str, status: OrderStatus, reason: str = "") -> PlaceAck:
        broker_id = None if status is OrderStatus.REJECTED else f"paper-{coid}"
        return PlaceAck(
            client_order_id=coid, status=status, broker_order_id=broker_id, reason=reason
        )
