"""The day's order history and trade book, kept beside the latest update of each order.

The orders table needs only an order's newest update; the orders book's detail shows how
it got there (each status it passed through, with its time and reason) and the trade book
every fill. Both are bounded: a console left open for weeks must not grow without end.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from engine.events.payloads import OrderUpdate, RejectedSignal
from engine.events.types import OrderStatus, Side

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
            steps = self.history[update.client_order_id] = []
            while len(self.history) > self.max_orders:
                self.history.popitem(last=False)
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
        if trade.trade_id in self.trades:
            return False
        self.trades[trade.trade_id] = trade
        while len(self.trades) > self.max_trades:
            self.trades.popitem(last=False)
        return True

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
        if rejection.signal_id in self.rejections:
            return False
        self.rejections[rejection.signal_id] = rejection
        while len(self.rejections) > MAX_REJECTIONS:
            self.rejections.popitem(last=False)
        return True

    def restore_steps(self, client_order_id: str, steps: list[StatusStep]) -> None:
        """An order's stored status history, before its latest update is applied (which
        then adds no step when it is the last one stored)."""
        if client_order_id in self.history or not steps:
            return  # the bus already told this order's story here
        self.history[client_order_id] = steps[-MAX_STEPS:]
        while len(self.history) > self.max_orders:
            self.history.popitem(last=False)

    def steps_of(self, client_order_id: str) -> list[StatusStep]:
        return list(self.history.get(client_order_id, ()))

    def fills_of(self, client_order_id: str) -> list[TradeLine]:
        return [t for t in self.trades.values() if t.client_order_id == client_order_id]

    def trade_rows(self) -> list[TradeLine]:
        """The day's fills, newest first."""
        return sorted(self.trades.values(), key=lambda t: (-t.fill_ts, t.trade_id))
