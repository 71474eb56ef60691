"""``ModifyOrderScreen``: change a working order's price, trigger or quantity.

Each field is checked as it is typed (a positive number, on the instrument's tick grid,
a quantity above what has filled), and Kite's cap of 25 modifications per order is
checked before the dialog offers to send: past it the dialog says so and cannot send.
Escape sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button, Input, Static

from engine.events.payloads import OrderUpdate
from engine.events.types import OrderType
from engine.trading_state.manual import MAX_MODIFICATIONS
from screens.dialog import Dialog, cancel_button, dialog_box, dialog_buttons

_HAS_PRICE = (OrderType.LIMIT, OrderType.SL)
_HAS_TRIGGER = (OrderType.SL, OrderType.SL_M)


@dataclass(frozen=True)
class OrderChanges:
    """What the trader asked to change; None leaves a field as it is."""

    price: Decimal | None = None
    trigger_price: Decimal | None = None
    quantity: int | None = None


def price_problem(text: str, tick_size: Decimal | None, what: str) -> tuple[Decimal | None, str]:
    """The typed price and why it cannot be sent ('' when it can; None, '' when empty)."""
    text = text.strip().replace(",", "")
    if not text:
        return None, ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, f"{what} {text!r} is not a number"
    if not value.is_finite() or value <= 0:
        return None, f"{what} must be above 0"
    if tick_size is not None and tick_size > 0 and value % tick_size:
        return None, f"{what} {value} is not a multiple of the tick size {tick_size}"
    return value, ""


def quantity_problem(text: str, order: OrderUpdate, lot_size: int) -> tuple[int | None, str]:
    """The typed quantity and why it cannot be sent ('' when it can; None, '' when empty)."""
    text = text.strip().replace(",", "")
    if not text:
        return None, ""
    if not text.isdigit():
        return None, f"quantity {text!r} is not a whole number"
    value = int(text)
    if value <= order.filled_quantity:
        return None, f"quantity must be above the {order.filled_quantity:,d} already filled"
    if lot_size > 1 and value % lot_size:
        return None, f"quantity {value} is not a multiple of the lot size {lot_size}"
    return value, ""


def cap_problem(order: OrderUpdate, done: int) -> str:
    """Kite's modification cap in words ('' while there is room)."""
    if done < MAX_MODIFICATIONS:
        return ""
    return (
        f"Order {order.client_order_id} was already modified {done} times; Kite allows "
        f"{MAX_MODIFICATIONS} modifications per order: cancel it and place a new one."
    )


class ModifyOrderScreen(Dialog[OrderChanges | None]):
    """Dismisses with the changes when the trader chooses Modify; None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modify.cancel"),
    ]

    def __init__(
        self,
        order: OrderUpdate,
        modifications_done: int,
        *,
        tick_size: Decimal | None = None,
        lot_size: int = 1,
    ) -> None:
        super().__init__()
        self.order = order
        self.modifications_done = modifications_done
        self.tick_size = tick_size
        self.lot_size = lot_size
        self.changes: OrderChanges | None = None

    def compose(self) -> ComposeResult:
        order = self.order
        with dialog_box(f"Modify order {order.client_order_id}", self._summary()):
            if order.order_type in _HAS_PRICE:
                yield Input(placeholder=f"price ({order.price})", id="modify-price")
            if order.order_type in _HAS_TRIGGER:
                yield Input(placeholder=f"trigger ({order.trigger_price})", id="modify-trigger")
            yield Input(placeholder=f"quantity ({order.quantity:,d})", id="modify-quantity")
            yield Static("", id="modify-problem")
            yield dialog_buttons(
                Button("Modify", id="confirm", variant="warning", disabled=True), cancel_button()
            )

    def _summary(self) -> str:
        order = self.order
        price = order.price if order.price is not None else "MARKET"
        tick = f" · tick {self.tick_size}" if self.tick_size is not None else ""
        return (
            f"{order.side.value} {order.quantity:,d} {order.symbol} {order.order_type.value} "
            f"@ {price} ({order.strategy}, {order.filled_quantity:,d} filled){tick}\n"
            f"Modifications so far: {self.modifications_done} of {MAX_MODIFICATIONS}"
        )

    def on_mount(self) -> None:
        self._check()
        inputs = self.query(Input)
        if inputs and not cap_problem(self.order, self.modifications_done):
            inputs.first().focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Input.Changed)
    def _typed(self) -> None:
        self._check()

    def _value(self, selector: str) -> str:
        found = self.query(selector)
        return found.first(Input).value if found else ""

    def _check(self) -> None:
        """Validate what is typed; the problem in words, Modify enabled only without one."""
        problem = cap_problem(self.order, self.modifications_done)
        price, price_error = price_problem(self._value("#modify-price"), self.tick_size, "price")
        trigger, trigger_error = price_problem(
            self._value("#modify-trigger"), self.tick_size, "trigger"
        )
        quantity, quantity_error = quantity_problem(
            self._value("#modify-quantity"), self.order, self.lot_size
        )
        problem = problem or price_error or trigger_error or quantity_error
        changes = OrderChanges(price=price, trigger_price=trigger, quantity=quantity)
        if not problem and changes == OrderChanges():
            problem = "Type a new price, trigger or quantity."
        self.changes = None if problem else changes
        self.query_one("#modify-problem", Static).update(problem)
        self.query_one("#confirm", Button).disabled = bool(problem)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.changes is not None:
            self.dismiss(self.changes)

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        if self.changes is not None:
            self.dismiss(self.changes)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
