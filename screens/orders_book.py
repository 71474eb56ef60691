"""The orders book: the day's orders, filtered open / all / rejected, with their reasons.

Enter opens an order's detail (its status history and fills). The day's orders come from
the read model, which the engine seeds from the store at start, so they survive a restart;
orders refused by pre-trade risk (never sent, so not in the store) are listed as the
console saw them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from screens.book_screen import BookScreen
from screens.order_detail import OrderDetailScreen
from widgets.book_tables import OrderFilter, OrdersBookTable, book_entries
from widgets.keyed_table import KeyedTable

FILTER_KEYS = {"1": OrderFilter.OPEN, "2": OrderFilter.ALL, "3": OrderFilter.REJECTED}


class OrdersBookScreen(BookScreen):
    """Every order of the day; ``1`` open, ``2`` all, ``3`` rejected; Enter for detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('open')", "Open", id="orders_book.open"),
        Binding("2", "show('all')", "All", id="orders_book.all"),
        Binding("3", "show('rejected')", "Rejected", id="orders_book.rejected"),
        Binding("enter", "detail", "Detail", id="orders_book.detail"),
    ]
    TITLE_TEXT = "Orders book"
    EMPTY_TEXT = "No orders here."

    def make_table(self) -> KeyedTable:
        return OrdersBookTable(id="book")

    @property
    def order_filter(self) -> OrderFilter:
        return self.query_one("#book", OrdersBookTable).order_filter

    def title_line(self) -> str:
        shown, day = self.table.row_count, len(book_entries(self.model))
        return (
            f"Orders book · {self.order_filter.value} ({shown} of {day})"
            " · 1 open · 2 all · 3 rejected"
        )

    def note_line(self) -> str:
        """The selected order's reason in full: at 80 columns the Reason column is cut."""
        key = self.table.cursor_key
        entry = book_entries(self.model).get(key) if key is not None else None
        if entry is None or not entry.reason:
            return ""
        return f"{entry.symbol.removeprefix('NSE:')} {entry.status.value}: {entry.reason}"

    def action_show(self, which: str) -> None:
        table = self.query_one("#book", OrdersBookTable)
        table.order_filter = OrderFilter(which)
        table.cursor_row = 0
        self.redraw(force=True)

    def action_detail(self) -> None:
        key = self.table.cursor_key
        entry = book_entries(self.model).get(key) if key is not None else None
        if entry is None:
            self.notify("No order selected.", severity="warning")
            return
        self.app.push_screen(OrderDetailScreen(entry, self.model, self.palette))
