"""The orders book: the day's orders, filtered open / all / rejected, with their reasons.

Enter opens an order's detail (its status history and fills). The day's orders come from
the read model, which the engine seeds from the store at start (each order's status
history too), so they survive a restart; orders refused by pre-trade risk (never sent, so
not in the orders table) come back from the risk alerts, which keep what they refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import ClassVar, Protocol

from textual.binding import Binding, BindingType

from engine.events.payloads import OrderUpdate
from engine.read_model import ReadModel
from engine.trading_state.manual import ManualRequestError
from screens.book_screen import BookScreen
from screens.confirm import ConfirmScreen
from screens.modify_dialog import ModifyOrderScreen, OrderChanges
from screens.order_detail import OrderDetailScreen
from widgets.book_tables import OrderFilter, OrdersBookTable, book_entries
from widgets.formatting import Palette, money
from widgets.keyed_table import KeyedTable

CancelOrder = Callable[[OrderUpdate], Awaitable[None]]


class OrderModifier(Protocol):
    """The console's side of ``m``: the audit log's count, the grid, the send."""

    async def modifications_done(self, client_order_id: str) -> int | None: ...

    def grid(self, order: OrderUpdate) -> tuple[Decimal | None, int]: ...

    async def send(self, order: OrderUpdate, changes: OrderChanges) -> str: ...


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
        # named in the title line: a footer entry would push q Quit off at 80 columns
        Binding("m", "modify_order", "Modify", id="orders_book.modify", show=False),
    ]
    TITLE_TEXT = "Orders book"
    EMPTY_TEXT = "No orders here."

    def __init__(
        self,
        model: ReadModel,
        now_ns: Callable[[], int],
        palette: Palette,
        cancel: CancelOrder | None = None,
        modifier: OrderModifier | None = None,
    ) -> None:
        super().__init__(model, now_ns, palette)
        self.cancel = cancel  # the engine's operator cancel, or None where there is none
        self.modifier = modifier  # the engine's operator modify, or None where there is none

    def make_table(self) -> KeyedTable:
        return OrdersBookTable(id="book")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_order" and self.cancel is None:
            return False
        if action == "modify_order" and self.modifier is None:
            return False
        return True

    def _working_order(self, verb: str) -> OrderUpdate | None:
        """The order under the cursor when it is still working; else None, and the trader
        is told to select one (a trade, a refusal or a finished order cannot be changed)."""
        key = self.table.cursor_key
        entry = book_entries(self.model, self.today).get(key) if key is not None else None
        if not isinstance(entry, OrderUpdate) or not entry.status.is_working:
            self.notify(f"Select a working order to {verb}.", severity="warning")
            return None
        return entry

    def action_cancel_order(self) -> None:
        """x: cancel the selected working order, after the trader confirms exactly which."""
        entry = self._working_order("cancel")
        if entry is None:
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

    def action_modify_order(self) -> None:
        """m: change the selected working order's price, trigger or quantity."""
        entry = self._working_order("modify")
        if entry is None:
            return
        self.run_worker(self._open_modify(entry), name="Modify order", group="control")

    async def _open_modify(self, order: OrderUpdate) -> None:
        """The dialog opens knowing the count already sent, so the cap is shown up front."""
        assert self.modifier is not None
        done = await self.modifier.modifications_done(order.client_order_id)
        if done is None:
            self.notify("Modify is not available here: no modification count.", severity="error")
            return
        tick_size, lot_size = self.modifier.grid(order)
        dialog = ModifyOrderScreen(order, done, tick_size=tick_size, lot_size=lot_size)
        self.app.push_screen(dialog, lambda changes: self._modify_chosen(order, changes))

    def _modify_chosen(self, order: OrderUpdate, changes: OrderChanges | None) -> None:
        if changes is not None:
            self.run_worker(self._send_modify(order, changes), name="Modify", group="control")

    async def _send_modify(self, order: OrderUpdate, changes: OrderChanges) -> None:
        assert self.modifier is not None
        try:
            said = await self.modifier.send(order, changes)
        except (ManualRequestError, RuntimeError) as exc:
            self.notify(f"Not modified: {exc}", severity="error", timeout=10)
            return
        self.notify(said)

    @property
    def order_filter(self) -> OrderFilter:
        return self.query_one("#book", OrdersBookTable).order_filter

    def title_line(self) -> str:
        shown, day = self.table.row_count, len(book_entries(self.model, self.today))
        return (
            f"Orders book · {self.order_filter.value} ({shown} of {day})"
            " · 1 open · 2 all · 3 rejected · m modify"
        )

    def note_line(self) -> str:
        """The selected order's reason in full: at 80 columns the Reason column is cut."""
        key = self.table.cursor_key
        entry = book_entries(self.model, self.today).get(key) if key is not None else None
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
        entry = book_entries(self.model, self.today).get(key) if key is not None else None
        if entry is None:
            self.notify("No order selected.", severity="warning")
            return
        self.app.push_screen(OrderDetailScreen(entry, self.model, self.palette))
