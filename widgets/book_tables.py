"""The orders book and trade book tables: the whole day, filtered, money never cut.

Fitted ``KeyedTable``s: money, quantities, statuses and times keep their full width;
the strategy, reason and order id give up cells first on a narrow terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum

from engine.events.payloads import OrderUpdate
from engine.events.types import OrderStatus
from engine.read_model.books import RiskRejection, TradeLine
from engine.read_model.model import ORDERS, REJECTIONS, TRADES, ReadModel
from widgets.columns import (
    FILLED,
    PRICE,
    QTY,
    REASON,
    SIDE,
    STATUS,
    STRATEGY,
    SYMBOL,
    TIME,
    UPDATED,
)
from widgets.formatting import (
    Palette,
    ist_date,
    money,
    right,
    run_time,
    side_text,
    status_text,
    symbol_text,
)
from widgets.keyed_table import Column, KeyedTable
from widgets.panel import Frame

AVG = Column("avg", "Avg", 8)
CHARGES = Column("charges", "Charges", 7)
ORDER_ID = Column("order", "Order", 8)  # an id: whole, so it can be looked up
ORDER_COLUMNS = [UPDATED, SYMBOL, SIDE, QTY, FILLED, PRICE, AVG, STATUS, STRATEGY, REASON]
TRADE_COLUMNS = [TIME, SYMBOL, SIDE, QTY, PRICE, CHARGES, ORDER_ID, STRATEGY]


class OrderFilter(StrEnum):
    """Which of the day's orders the book shows."""

    OPEN = "open"
    ALL = "all"
    REJECTED = "rejected"


BookEntry = OrderUpdate | RiskRejection

_SHOWN: dict[OrderFilter, Callable[[BookEntry], bool]] = {
    OrderFilter.OPEN: lambda entry: entry.status.is_working,
    OrderFilter.ALL: lambda entry: True,
    OrderFilter.REJECTED: lambda entry: entry.status is OrderStatus.REJECTED,
}


def of_the_day(ts_ns: int, today: date | None) -> bool:
    """True for a time on the run's day ``today`` (any time while the day is unknown).

    The books are one day's, as their titles and ``alphapanda orders|trades`` say. The read
    model keeps what it saw since the console opened, so a session that rolled over without
    a restart still held yesterday's rows, and the trade book summed their charges as
    today's; a restart, which seeds only the day, then changed the figures.
    """
    return today is None or not ts_ns or ist_date(ts_ns) == today


def book_entries(model: ReadModel, today: date | None) -> dict[str, BookEntry]:
    """Working orders first (newest first), then the day's finished orders and risk refusals
    (newest first), keyed as the table keys its rows: client order id, or the refused
    signal's id. A working order is listed whatever its day: it can still trade."""
    working = [o for o in model.orders.values() if o.status.is_working]
    finished: list[tuple[int, str, BookEntry]] = [
        (o.update_ts, o.client_order_id, o)
        for o in model.orders.values()
        if o.status.is_terminal and of_the_day(o.update_ts, today)
    ]
    finished += [
        (r.ts, r.signal_id, r) for r in model.books.rejections.values() if of_the_day(r.ts, today)
    ]
    working.sort(key=lambda o: -o.update_ts)
    finished.sort(key=lambda row: -row[0])
    entries: dict[str, BookEntry] = {o.client_order_id: o for o in working}
    entries.update((key, entry) for _, key, entry in finished)
    return entries


class OrdersBookTable(KeyedTable):
    """Every order of the day the read model holds and every risk refusal it saw."""

    SECTIONS = (ORDERS, REJECTIONS)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(ORDER_COLUMNS, fit=True, **kwargs)
        self.order_filter = OrderFilter.ALL

    def show(self, frame: Frame) -> None:
        shown = _SHOWN[self.order_filter]
        palette, today = frame.palette, frame.today
        self.sync(
            [
                (key, entry_cells(entry, palette, today))
                for key, entry in book_entries(frame.model, today).items()
                if shown(entry)
            ]
        )


def entry_cells(entry: BookEntry, palette: Palette, today: date | None) -> tuple[object, ...]:
    """An order's row; a risk refusal's is an order's that never reached the venue."""
    if isinstance(entry, OrderUpdate):
        ts, filled = entry.update_ts, entry.filled_quantity
        avg = money(entry.average_price) if filled else "-"
    else:
        ts, filled, avg = entry.ts, 0, "-"
    return (
        run_time(ts, today),
        symbol_text(entry.symbol),
        side_text(entry.side, palette),
        right(f"{entry.quantity:,d}"),
        right(f"{filled:,d}"),
        right(money(entry.price) if entry.price is not None else "MKT"),
        right(avg),
        status_text(entry.status, palette),
        entry.strategy,
        entry.reason,
    )


class TradeBookTable(KeyedTable):
    """The day's fills, newest first, keyed by trade id."""

    SECTIONS = (TRADES,)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(TRADE_COLUMNS, fit=True, **kwargs)

    def show(self, frame: Frame) -> None:
        palette, today = frame.palette, frame.today
        self.sync(
            [
                (trade.trade_id, trade_cells(trade, palette, today))
                for trade in day_trades(frame.model, today)
            ]
        )


def day_trades(model: ReadModel, today: date | None) -> list[TradeLine]:
    """The fills of the run's day ``today``, newest first: the trade book's rows and sums."""
    return [t for t in model.books.trade_rows() if of_the_day(t.fill_ts, today)]


def trade_cells(trade: TradeLine, palette: Palette, today: date | None) -> tuple[object, ...]:
    return (
        run_time(trade.fill_ts, today),
        symbol_text(trade.symbol),
        side_text(trade.side, palette),
        right(f"{trade.quantity:,d}"),
        right(money(trade.price)),
        right(money(trade.charges)),
        trade.client_order_id,
        trade.strategy,
    )
