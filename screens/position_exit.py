"""``ExitPositionScreen``: confirm the exit of one position, at market or a typed limit.

The dialog says exactly what will go out (the side that closes it, the quantity, the
symbol and strategy) before anything is sent; a limit price is checked as it is typed and
the exit button stays disabled while the text is not a price. Escape always sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button, Input, Static

from engine.read_model.views import PositionView
from screens.dialog import Dialog, cancel_button, dialog_box, dialog_buttons


@dataclass(frozen=True, slots=True)
class ExitChoice:
    """The trader confirmed the exit: at market (``limit_price`` None) or at a limit."""

    limit_price: Decimal | None = None


def exit_side(net_quantity: int) -> str:
    """The side of the order that closes a position: a long is sold, a short bought."""
    return "SELL" if net_quantity > 0 else "BUY"


def exit_summary(view: PositionView) -> str:
    """``SELL 50 INFY of momo (closes the long 50)``: what the exit will send."""
    held = "long" if view.net_quantity > 0 else "short"
    size = abs(view.net_quantity)
    symbol = view.symbol.removeprefix("NSE:")
    return (
        f"{exit_side(view.net_quantity)} {size:,d} {symbol} of {view.strategy} "
        f"(closes the {held} {size:,d})"
    )


def limit_problem(text: str) -> str | None:
    """Why ``text`` is not a limit price (None when blank: market, or a positive price)."""
    stripped = text.strip().replace(",", "")
    if not stripped:
        return None
    try:
        price = Decimal(stripped)
    except InvalidOperation:
        return f"not a price: {text.strip()}"
    if not price.is_finite() or price <= 0:
        return "a limit price is positive"
    return None


class ExitPositionScreen(Dialog[ExitChoice | None]):
    """Dismisses with an ``ExitChoice`` only when the trader chooses Exit."""

    DEFAULT_CSS = """
    ExitPositionScreen #exit-limit { margin: 0 0 0 0; }
    ExitPositionScreen #exit-problem { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="exit.cancel"),
    ]

    def __init__(self, view: PositionView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with dialog_box("Exit position", exit_summary(self.view), danger=True):
            yield Input(placeholder="limit price (blank: MARKET)", id="exit-limit")
            yield Static("", id="exit-problem")
            yield dialog_buttons(
                Button("Exit at MARKET", id="confirm", variant="error"), cancel_button()
            )

    def on_mount(self) -> None:
        self.query_one("#exit-limit", Input).focus()

    @on(Input.Changed, "#exit-limit")
    def _check(self, event: Input.Changed) -> None:
        problem = limit_problem(event.value)
        self.query_one("#exit-problem", Static).update(problem or "")
        button = self.query_one("#confirm", Button)
        button.disabled = problem is not None
        limit = event.value.strip()
        button.label = f"Exit at {limit}" if limit and problem is None else "Exit at MARKET"

    @on(Input.Submitted, "#exit-limit")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        text = self.query_one("#exit-limit", Input).value
        if limit_problem(text) is not None:
            return  # the problem is on screen; nothing is sent
        stripped = text.strip().replace(",", "")
        self.dismiss(ExitChoice(Decimal(stripped) if stripped else None))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
