"""Orders: working orders first, then the most recent finished ones, with reject reasons."""

from __future__ import annotations

from engine.events.payloads import OrderUpdate
from engine.read_model.model import ORDERS
from widgets.formatting import Palette, ist_time, money, right, side_text, status_text
from widgets.keyed_table import KeyedTable, Row
from widgets.panel import Frame

MAX_ROWS = 100
COLUMNS = [
    ("time", "Time", 8),
    ("symbol", "Symbol", 12),
    ("side", "Side", 4),
    ("type", "Type", 6),
    ("qty", "Qty", 5),
    ("filled", "Filled", 6),
    ("price", "Price", 9),
    ("status", "Status", 9),
    ("reason", "Reason", 24),
]


class OrdersTable(KeyedTable):
    """The order book of this console's broker, keyed by client order id."""

    SECTIONS = (ORDERS,)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, **kwargs)
        self._rows: dict[str, tuple[OrderUpdate, Row]] = {}  # formatted once per update
        self._palette: Palette | None = None

    def show(self, frame: Frame) -> None:
        palette = frame.palette
        cache: dict[str, tuple[OrderUpdate, Row]] = self._rows if palette is self._palette else {}
        self._palette = palette
        rows: dict[str, tuple[OrderUpdate, Row]] = {}
        for order in frame.model.order_rows()[:MAX_ROWS]:
            key = order.client_order_id
            seen = cache.get(key)
            if seen is None or seen[0] is not order:
                seen = (order, order_cells(order, palette))
            rows[key] = seen
        self._rows = rows
        self.sync([(key, cells) for key, (_, cells) in rows.items()])


def order_cells(order: OrderUpdate, palette: Palette) -> Row:
    price = order.average_price if order.filled_quantity else order.price
    return (
        ist_time(order.update_ts),
        order.symbol,
        side_text(order.side, palette),
        order.order_type.value,
        right(f"{order.quantity:,d}"),
        right(f"{order.filled_quantity:,d}"),
        right(money(price) if price is not None else "MKT"),
        status_text(order.status, palette),
        order.reason,
    )
