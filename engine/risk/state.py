"""What risk knows about the market and the book, built only from events the pipeline emits.

The system this replaces had rules reading state nobody wrote. Here every field has one
writer, named in its docstring: ticks, POSITION_UPDATED, PNL_SNAPSHOT, order lifecycle
events, and risk's own validations (a validated signal counts as an open order at once,
so a burst cannot slip past the open-order limit before execution reports anything).

Net quantities come from the fills on order events, the same stream that ends a working
order, never from POSITION_UPDATED: the two travel on different topics, and a FILLED
order seen before its position (or after) would leave the quantity counted nowhere (or
twice) for a moment, which is enough to let a stacked entry through or refuse an exit.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from engine.clock import NS_PER_S
from engine.domain.records import FillRecord, OrderRecord, PositionRecord
from engine.events.payloads import OrderUpdate, PnlSnapshot, PositionSnapshot, Signal, Tick
from engine.events.types import OrderStatus, Side
from engine.ids import client_order_id
from engine.order_fills import OrderFills

_REJECTED = OrderStatus.REJECTED
_ACCEPTED = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED})


class OpenOrder(msgspec.Struct):
    """An order risk let through (or saw working) that has not reached a terminal state.

    A struct: one is built for every validated signal.
    """

    strategy: str
    instrument_token: int
    side: Side
    quantity: int
    filled: int = 0
    # found working at start: its fate was decided by a process that is gone (a restarted
    # paper session cancels it, a live one may reject it), so it never makes room
    restored: bool = False

    @property
    def remaining_signed(self) -> int:
        return self.side.sign * max(self.quantity - self.filled, 0)


@dataclass(slots=True)
class Position:
    net_quantity: int
    average_price: Decimal
    last_price: Decimal | None


class RiskState:
    """Market prices, positions, day P&L, working orders and the order-rate window."""

    def __init__(self) -> None:
        self.last_prices: dict[int, Decimal] = {}  # writer: MARKET_TICK
        # prices writer: POSITION_UPDATED; net quantity writer: fills on order events
        self.positions: dict[tuple[str, int], Position] = {}
        # writer: order events; each order's filled quantity already counted in a net
        # (an order's filled quantity only grows, so a redelivered event adds nothing)
        self._counted = OrderFills()
        self.day_pnl: Decimal | None = None  # writer: PNL_SNAPSHOT of ``trading_day``
        self.trading_day = ""  # ISO; writer: risk, from event times (``new_day``)
        self._pnl_day = ""  # the trading day of ``day_pnl`` ("" when the snapshot had none)
        self.open_orders: dict[str, OpenOrder] = {}  # writers: risk validation, order events
        self.consecutive_rejections = 0  # writer: order events
        # writer: risk validation; signal event times, sorted, so a count is two bisects
        self._sent_ts: list[int] = []
        self._newest_sent = 0

    # -- writers ------------------------------------------------------------------
    def apply_tick(self, tick: Tick) -> None:
        self.last_prices[tick.instrument_token] = tick.last_price

    def apply_position(self, snap: PositionSnapshot) -> None:
        """Prices only: the net quantity is counted from fills (module docstring)."""
        key = (snap.strategy, snap.instrument_token)
        pos = self.positions.get(key)
        if pos is None:
            self.positions[key] = Position(0, snap.average_price, snap.last_price)
        else:
            pos.average_price, pos.last_price = snap.average_price, snap.last_price

    def _count_fill(self, cid: str, strategy: str, token: int, side: Side, filled: int) -> None:
        """Add what ``filled`` adds to the order's quantity already counted."""
        new = self._counted.add(cid, filled)
        if not new:
            return
        key = (strategy, token)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(0, Decimal(0), None)
        pos.net_quantity += side.sign * new

    @staticmethod
    def day_pnl_of(snap: PnlSnapshot) -> Decimal:
        """Day P&L as a trader counts it: today's realized + unrealized - today's charges."""
        return snap.day_pnl

    def is_stale(self, snap: PnlSnapshot) -> bool:
        """A snapshot of an earlier trading day than risk's: its loss is not today's."""
        return bool(snap.trading_day) and snap.trading_day < self.trading_day

    def apply_pnl(self, snap: PnlSnapshot) -> Decimal | None:
        """Today's P&L from ``snap``; None (and nothing changed) for a stale snapshot."""
        if self.is_stale(snap):
            return None
        self.day_pnl = snap.day_pnl
        self._pnl_day = snap.trading_day
        return self.day_pnl

    def new_day(self, label: str) -> None:
        """A new session: nothing is known of its P&L until the portfolio reports it.

        A P&L without a trading day (an older producer's overall figures) is kept.
        """
        self.trading_day = label
        if self._pnl_day and self._pnl_day < label:
            self.day_pnl = None

    def rejections_after(self, update: OrderUpdate) -> int:
        """``consecutive_rejections`` once ``update`` is applied (a rejection counts, an
        acceptance resets), so a caller can tell beforehand whether it trips the limit."""
        status = update.status
        if status is _REJECTED:
            return self.consecutive_rejections + 1
        if status in _ACCEPTED:
            return 0
        return self.consecutive_rejections

    def apply_order_update(self, update: OrderUpdate) -> None:
        """Track working orders; count broker rejections in a row (an acceptance resets)."""
        status = update.status
        self.consecutive_rejections = self.rejections_after(update)
        if update.filled_quantity:
            self._count_fill(
                update.client_order_id,
                update.strategy,
                update.instrument_token,
                update.side,
                update.filled_quantity,
            )
        if status.is_terminal:
            self.open_orders.pop(update.client_order_id, None)
            return
        order = self.open_orders.get(update.client_order_id)
        if order is None:  # placed outside risk's sight (restart, manual): still working
            order = OpenOrder(update.strategy, update.instrument_token, update.side, 0)
            self.open_orders[update.client_order_id] = order
        order.quantity = update.quantity
        order.filled = max(order.filled, update.filled_quantity)

    def record_validated(self, signal: Signal) -> None:
        """A validated signal is an open order from this moment, under its client order id."""
        self.open_orders[client_order_id(signal.signal_id)] = OpenOrder(
            signal.strategy, signal.instrument_token, signal.side, signal.quantity
        )
        insort(self._sent_ts, signal.signal_ts)
        self._newest_sent = max(self._newest_sent, signal.signal_ts)
        expired = bisect_left(self._sent_ts, self._newest_sent - 2 * NS_PER_S)
        if expired:
            del self._sent_ts[:expired]

    def restore(
        self,
        positions: Iterable[PositionRecord],
        orders: Iterable[OrderRecord],
        fills: Iterable[FillRecord] | None = None,
    ) -> None:
        """Seed from storage at start, so a restart does not forget the book.

        With ``fills`` (the journal) the net quantities are counted from them, as live:
        the positions table may lag the journal after a crash.
        """
        for pos in positions:
            key = (pos.strategy, pos.instrument_token)
            net = 0 if fills is not None else pos.net_quantity
            self.positions[key] = Position(net, pos.average_price, pos.last_price)
        if fills is not None:
            by_order: dict[str, FillRecord] = {}
            filled: dict[str, int] = {}
            for fill in fills:
                by_order.setdefault(fill.client_order_id, fill)
                filled[fill.client_order_id] = filled.get(fill.client_order_id, 0) + fill.quantity
            for cid, quantity in filled.items():
                first = by_order[cid]
                self._count_fill(cid, first.strategy, first.instrument_token, first.side, quantity)
        for order in orders:
            if order.status.is_working:
                self.open_orders[order.client_order_id] = OpenOrder(
                    order.strategy,
                    order.instrument_token,
                    order.side,
                    order.quantity,
                    order.filled_quantity,
                    restored=True,
                )

    # -- readers ------------------------------------------------------------------
    def net_quantity(self, strategy: str, token: int) -> int:
        pos = self.positions.get((strategy, token))
        return pos.net_quantity if pos else 0

    def instrument_net(self, token: int) -> int:
        """Net position in one instrument over all strategies."""
        return sum(p.net_quantity for (_, tok), p in self.positions.items() if tok == token)

    def working_net(self, token: int, strategy: str | None = None) -> int:
        """Signed quantity still to fill on working orders (optionally of one strategy)."""
        return sum(
            o.remaining_signed
            for o in self.open_orders.values()
            if o.instrument_token == token and (strategy is None or o.strategy == strategy)
        )

    def working_on_side(self, token: int, strategy: str, sign: int) -> int:
        """Signed quantity still to fill on one strategy's working orders of one side."""
        return sum(
            o.remaining_signed
            for o in self.open_orders.values()
            if o.instrument_token == token and o.strategy == strategy and o.side.sign == sign
        )

    def working_room(self, token: int, strategy: str, sign: int) -> int:
        """Signed quantity still to fill on one strategy's working orders, as a position
        limit counts it for an order of side ``sign``: orders on that side always, orders
        on the other side only if this process let them through (a restored one may never
        fill, and then the room it made would be a position beyond the limit)."""
        return sum(
            o.remaining_signed
            for o in self.open_orders.values()
            if o.instrument_token == token
            and o.strategy == strategy
            and (o.side.sign == sign or not o.restored)
        )

    def mark_price(self, token: int) -> Decimal | None:
        """Last traded price from ticks, else the portfolio's last mark, else the cost."""
        price = self.last_prices.get(token)
        if price is not None:
            return price
        marks = [p for (_, tok), p in self.positions.items() if tok == token and p.net_quantity]
        for pos in marks:
            if pos.last_price is not None:
                return pos.last_price
        return marks[0].average_price if marks else None

    def nets_with_working(self) -> dict[int, int]:
        """``instrument_net`` + ``working_net`` of every instrument with a position or a
        working order, in one pass over each (the gross exposure rule reads them all)."""
        nets: dict[int, int] = {}
        for (_, token), pos in self.positions.items():
            nets[token] = nets.get(token, 0) + pos.net_quantity
        for order in self.open_orders.values():
            token = order.instrument_token
            nets[token] = nets.get(token, 0) + order.remaining_signed
        return nets

    def orders_in_window(self, ts_ns: int, window_ns: int = NS_PER_S) -> int:
        """Orders let through in the ``window_ns`` before event time ``ts_ns``."""
        sent = self._sent_ts
        return bisect_right(sent, ts_ns) - bisect_right(sent, ts_ns - window_ns)
