"""The orders book: the day's orders, filtered open / all / rejected, with their reasons.

Enter opens an order's detail (its status history and fills). The day's orders come from
the read model, which the engine seeds from the store at start, so they survive a restart;
orders refused by pre-trade risk (never sent, so not in the store) are listed as the
console saw them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual.binding import Binding, BindingType

from engine.events.payloads import OrderUpdate
from engine.read_model import ReadModel
from screens.book_screen import BookScreen
from screens.confirm import ConfirmScreen
from screens.order_detail import OrderDetailScreen
from widgets.book_tables import OrderFilter, OrdersBookTable, book_entries
from widgets.formatting import Palette, money
from widgets.keyed_table import KeyedTable

CancelOrder = Callable[[OrderUpdate], Awaitable[None]]

FILTER_KEYS = {"1": OrderFilter.OPEN, "2": OrderFilter.ALL, "3": OrderFilter.REJECTED}


class OrdersBookScreen(BookScreen):
    """Every order of the day; ``1`` open, ``2`` all, ``3`` rejected; Enter for detail."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # the filters are named in the title line: the footer keeps room for ^k Kill at 80
        Binding("1", "show('open')", "Open", id="orders_book.open", show=False),
        Binding("2", "show('all')", "All", id="orders_book.all", show=False),
        Binding("3", "show('rejected')", "Rejected", id="orders_book.rejected", show=False),
        Binding("enter", "detail", "Detail", id="orders_book.detail"),
        Binding("x", "cancel_order", "Cancel", id="orders_book.cancel"),
    ]
    TITLE_TEXT = "Orders book"
    EMPTY_TEXT = "No orders here."

    def __init__(
        self,
        model: ReadModel,
        now_ns: Callable[[], int],
        palette: Palette,
        cancel: CancelOrder | None = None,
    ) -> None:
        super().__init__(model, now_ns, palette)
        self.cancel = cancel  # the engine's operator cancel, or None where there is none

    def make_table(self) -> KeyedTable:
        return OrdersBookTable(id="book")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_order" and self.cancel is None:
            return False
        return True

    def action_cancel_order(self) -> None:
        """x: cancel the selected working order, after the trader confirms exactly which."""
        key = self.table.cursor_key
        entry = book_entries(self.model).get(key) if key is not None else None
        if not isinstance(entry, OrderUpdate) or not entry.status.is_working:
            self.notify("Select a working order to cancel.", severity="warning")
            return
        price = money(entry.price) if entry.price is not None else "MARKET"
        question = (
            f"Cancel {entry.side.value} {entry.quantity:,d} {entry.symbol} at {price} "
            f"({entry.strategy}, {entry.filled_quantity:,d} filled)?\n"
            f"Order {entry.client_order_id}"
        )
        confirm = ConfirmScreen("Cancel order", question, "Cancel order")
        self.app.push_screen(confirm, lambda chosen: self._cancel_chosen(entry, chosen))

    def _cancel_chosen(self, order: OrderUpdate, chosen: bool | None) -> None:
        if chosen and self.cancel is not None:
            self.app.run_worker(self.cancel(order), name="Cancel order", group="control")

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
