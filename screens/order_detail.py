"""An order's detail: its terms, every status it passed through, and its fills.

Drawn once from the read model when opened (the history the console saw, or after a
restart the stored state); Escape goes back to the orders book.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.events.payloads import OrderUpdate
from engine.read_model import ReadModel
from engine.read_model.books import RiskRejection, StatusStep
from screens.dialog import Dialog
from widgets.formatting import Palette, ist_time, money, status_text


class OrderDetailScreen(Dialog[None]):
    """One order, read-only; the kill switch still works while it is open."""

    DEFAULT_CSS = """
    OrderDetailScreen { align: center middle; }
    OrderDetailScreen #detail-body {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    OrderDetailScreen .detail-heading { text-style: bold; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="order_detail.close"),
    ]

    def __init__(
        self, order: OrderUpdate | RiskRejection, model: ReadModel, palette: Palette
    ) -> None:
        super().__init__()
        self.order = order
        self.model = model
        self.palette = palette

    @property
    def key(self) -> str:
        order = self.order
        return order.client_order_id if isinstance(order, OrderUpdate) else order.signal_id

    def compose(self) -> ComposeResult:
        title = f"Order {self.key}"
        if isinstance(self.order, RiskRejection):
            title = f"Refused by risk ({self.order.rule}): never sent · signal {self.key}"
        with VerticalScroll(id="detail-body"):
            yield Static(title, id="detail-title")
            yield Static(self._terms(), id="detail-terms")
            yield Static("Status history", classes="detail-heading")
            yield Static(self._history(), id="detail-history")
            yield Static("Fills", classes="detail-heading")
            yield Static(self._fills(), id="detail-fills")
            yield Static("Esc closes", id="detail-hint")

    def _terms(self) -> Table:
        order = self.order
        if isinstance(order, RiskRejection):
            return _rows(
                [
                    ("Symbol", f"{order.symbol}  {order.side.value}  {order.quantity:,d}"),
                    ("Price", money(order.price) if order.price is not None else "MARKET"),
                    ("Strategy", order.strategy),
                    ("Reason", order.reason),
                ]
            )
        price = money(order.price) if order.price is not None else "MARKET"
        rows = [
            ("Symbol", f"{order.symbol}  {order.side.value}  {order.quantity:,d}"),
            ("Type", f"{order.order_type.value} {order.product.value}  price {price}"),
            ("Trigger", money(order.trigger_price) if order.trigger_price is not None else "-"),
            ("Filled", f"{order.filled_quantity:,d} @ {money(order.average_price)}"),
            ("Strategy", order.strategy),
            ("Broker id", order.broker_order_id or "-"),
        ]
        if order.reason:
            rows.append(("Reason", order.reason))
        return _rows(rows)

    def _history(self) -> Table | str:
        order = self.order
        steps = (
            self.model.books.steps_of(order.client_order_id)
            if isinstance(order, OrderUpdate)
            else [StatusStep(order.status, order.ts, 0, order.reason)]
        )
        if not steps:
            return "Only the latest state is known."
        table = Table(box=None, padding=(0, 2, 0, 0))
        for name in ("Time", "Status", "Filled", "Reason"):
            table.add_column(
                name, no_wrap=name != "Reason", justify="right" if name == "Filled" else "left"
            )
        for step in steps:
            table.add_row(
                ist_time(step.ts),
                status_text(step.status, self.palette),
                f"{step.filled_quantity:,d}",
                step.reason,
            )
        return table

    def _fills(self) -> Table | str:
        fills = self.model.books.fills_of(self.key)
        if not fills:
            return "No fills."
        table = Table(box=None, padding=(0, 2, 0, 0))
        for name in ("Time", "Qty", "Price", "Charges", "Trade"):
            table.add_column(
                name, no_wrap=True, justify="left" if name in ("Time", "Trade") else "right"
            )
        for fill in fills:
            table.add_row(
                ist_time(fill.fill_ts),
                f"{fill.quantity:,d}",
                money(fill.price),
                money(fill.charges),
                fill.trade_id,
            )
        return table

    def action_close(self) -> None:
        self.dismiss(None)


def _rows(rows: list[tuple[str, str]]) -> Table:
    """Name and value, two columns without a header."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, value in rows:
        table.add_row(name, value)
    return table
