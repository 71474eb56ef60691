"""Orders: working orders first, then the trading day's finished ones, with reject reasons.

Times are in the run's clock; an order from another day (still working) shows its date. Statuses and
types are short words that the fitted columns never cut; the reason takes what is left.
"""

from __future__ import annotations

from datetime import date

from engine.events.payloads import OrderUpdate
from engine.read_model.model import ORDERS
from widgets.columns import FILLED, PRICE, QTY, REASON, SIDE, STATUS, SYMBOL, UPDATED
from widgets.formatting import (
    Palette,
    money,
    order_type_text,
    right,
    run_time,
    side_text,
    status_text,
    symbol_text,
)
from widgets.keyed_table import Column, KeyedTable, Row
from widgets.panel import Frame

MAX_ROWS = 100
COLUMNS = [UPDATED, SYMBOL, SIDE, Column("type", "Type", 4), QTY, FILLED, PRICE, STATUS, REASON]


class OrdersTable(KeyedTable):
    """The order book of this console's broker, keyed by client order id."""

    SECTIONS = (ORDERS,)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, fit=True, **kwargs)
        self._rows: dict[str, tuple[OrderUpdate, Row]] = {}  # formatted once per update
        self._palette: Palette | None = None
        self._today: date | None = None

    def show(self, frame: Frame) -> None:
        palette, today = frame.palette, frame.today
        same = palette is self._palette and today == self._today
        cache: dict[str, tuple[OrderUpdate, Row]] = self._rows if same else {}
        self._palette, self._today = palette, today
        rows: dict[str, tuple[OrderUpdate, Row]] = {}
        for order in frame.model.order_rows(frame.day)[:MAX_ROWS]:
            key = order.client_order_id
            seen = cache.get(key)
            if seen is None or seen[0] is not order:
                seen = (order, order_cells(order, palette, today))
            rows[key] = seen
        self._rows = rows
        self.sync([(key, cells) for key, (_, cells) in rows.items()])


def order_cells(order: OrderUpdate, palette: Palette, today: date | None = None) -> Row:
    price = order.average_price if order.filled_quantity else order.price
    return (
        run_time(order.update_ts, today),
        symbol_text(order.symbol),
        side_text(order.side, palette),
        order_type_text(order.order_type),
        right(f"{order.quantity:,d}"),
        right(f"{order.filled_quantity:,d}"),
        right(money(price) if price is not None else "MKT"),
        status_text(order.status, palette),
        order.reason,
    )
