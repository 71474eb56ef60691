"""The day's order history and trade book, kept beside the latest update of each order.

The orders table needs only an order's newest update; the orders book's detail shows how
it got there (each status it passed through, with its time and reason) and the trade book
every fill. Both are bounded: a console left open for weeks must not grow without end.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from engine.events.payloads import OrderUpdate, RejectedSignal
from engine.events.types import OrderStatus, Side
from engine.market.sessions import TradingDays

MAX_HISTORY_ORDERS = 500  # orders whose status history is kept (the oldest forgotten first)
MAX_STEPS = 50  # status steps kept per order (an order modified 25 times stays whole)
MAX_TRADES = 2_000
MAX_REJECTIONS = 200  # risk refusals kept (a strategy refused at every signal cannot grow it)


@dataclass(frozen=True, slots=True)
class StatusStep:
    """One change of an order's status, as the engine reported it."""

    status: OrderStatus
    ts: int
    filled_quantity: int
    reason: str


@dataclass(frozen=True, slots=True)
class TradeLine:
    """One fill, with the order it belongs to; ``trade_id`` is unique per broker."""

    trade_id: str
    client_order_id: str
    strategy: str
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    charges: Decimal
    fill_ts: int


@dataclass(frozen=True, slots=True)
class RiskRejection:
    """A strategy's or the operator's order that pre-trade risk refused: never sent, so it
    has no client order id and no row in the store's orders; keyed by its signal."""

    signal_id: str
    strategy: str
    symbol: str
    side: Side
    quantity: int
    price: Decimal | None
    rule: str
    reason: str
    ts: int

    @property
    def status(self) -> OrderStatus:
        return OrderStatus.REJECTED


_V = TypeVar("_V")


def _add_new(book: OrderedDict[str, _V], key: str, value: _V, limit: int) -> bool:
    """``value`` under ``key`` unless the key is there already (then False); beyond
    ``limit`` entries the oldest are forgotten."""
    if key in book:
        return False
    book[key] = value
    while len(book) > limit:
        book.popitem(last=False)
    return True


class DayBooks:
    """Each order's status history and every fill, keyed so a redelivery counts once."""

    def __init__(self, max_orders: int = MAX_HISTORY_ORDERS, max_trades: int = MAX_TRADES) -> None:
        self.max_orders = max_orders
        self.max_trades = max_trades
        self.history: OrderedDict[str, list[StatusStep]] = OrderedDict()
        self.trades: OrderedDict[str, TradeLine] = OrderedDict()
        self.rejections: OrderedDict[str, RiskRejection] = OrderedDict()

    def record_step(self, update: OrderUpdate) -> bool:
        """A status the order moved to; False when it is the state already noted."""
        steps = self.history.get(update.client_order_id)
        if steps is None:
            steps = []
            _add_new(self.history, update.client_order_id, steps, self.max_orders)
        step = StatusStep(update.status, update.update_ts, update.filled_quantity, update.reason)
        last = steps[-1] if steps else None
        if last is not None and (last.status, last.filled_quantity) == (
            step.status,
            step.filled_quantity,
        ):
            return False  # the same state redelivered (or only a later timestamp)
        steps.append(step)
        del steps[:-MAX_STEPS]
        return True

    def record_fill(self, update: OrderUpdate) -> bool:
        """The fill ``update`` carries, if any; True when it is new to the book."""
        fill = update.fill
        if fill is None or fill.trade_id in self.trades:
            return False
        self.add_trade(
            TradeLine(
                trade_id=fill.trade_id,
                client_order_id=update.client_order_id,
                strategy=update.strategy,
                symbol=update.symbol,
                side=update.side,
                quantity=fill.quantity,
                price=fill.price,
                charges=fill.charges,
                fill_ts=fill.fill_ts or update.update_ts,
            )
        )
        return True

    def add_trade(self, trade: TradeLine) -> bool:
        """A fill from the bus or the store; False when it is already in the book."""
        return _add_new(self.trades, trade.trade_id, trade, self.max_trades)

    def record_rejection(self, rejected: RejectedSignal) -> bool:
        """A risk refusal; False when this signal's refusal is already in the book."""
        signal = rejected.signal
        return self.add_rejection(
            RiskRejection(
                signal_id=signal.signal_id,
                strategy=signal.strategy,
                symbol=signal.symbol,
                side=signal.side,
                quantity=signal.quantity,
                price=signal.limit_price,
                rule=rejected.rule,
                reason=rejected.reason,
                ts=signal.signal_ts,
            )
        )

    def add_rejection(self, rejection: RiskRejection) -> bool:
        """A refusal from the bus or the store; False when it is already in the book."""
        return _add_new(self.rejections, rejection.signal_id, rejection, MAX_REJECTIONS)

    def restore_steps(self, client_order_id: str, steps: list[StatusStep]) -> None:
        """An order's stored status history, before its latest update is applied (which
        then adds no step when it is the last one stored)."""
        if steps:  # an order whose story the bus already told here keeps that one
            _add_new(self.history, client_order_id, steps[-MAX_STEPS:], self.max_orders)

    def steps_of(self, client_order_id: str) -> list[StatusStep]:
        return list(self.history.get(client_order_id, ()))

    def fills_of(self, client_order_id: str) -> list[TradeLine]:
        return [t for t in self.trades.values() if t.client_order_id == client_order_id]

    def trade_rows(self) -> list[TradeLine]:
        """The day's fills, newest first."""
        return sorted(self.trades.values(), key=lambda t: (-t.fill_ts, t.trade_id))


def order_book_rows(
    orders: Iterable[OrderUpdate], days: TradingDays, day: str | None
) -> list[OrderUpdate]:
    """Working orders first, then finished ones, newest first; with ``day`` only the
    finished ones of that trading day, as a restart seeds them (``seed.day_orders``): a
    console left running across sessions listed the earlier days' orders until it was
    restarted (seen in QA). An update with no time (0) is kept."""
    rows = list(orders)
    if day is not None:
        start = days.window_of(date.fromisoformat(day)).start_ns
        rows = [o for o in rows if o.status.is_working or not o.update_ts or o.update_ts >= start]
    return sorted(rows, key=lambda o: (o.status.is_terminal, -o.update_ts))
