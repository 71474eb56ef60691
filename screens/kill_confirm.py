"""``KillConfirmScreen``: the kill switch's one question — kill, kill and square off, or not.

Kill is focused first, so ctrl+k then Enter halts everything in two key presses; squaring
off is a separate, explicit choice because it sends market orders.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class KillChoice(StrEnum):
    KILL = "kill"
    FLATTEN = "flatten"


class KillConfirmScreen(ModalScreen[KillChoice | None]):
    """Dismisses with the choice, or None when Escape or Cancel is pressed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="kill.cancel"),
        Binding("left,right", "switch", show=False),
    ]

    def __init__(self, mode: str, open_orders: int, positions: int) -> None:
        super().__init__()
        self.mode = mode
        self.open_orders = open_orders
        self.positions = positions

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger"):
            yield Static(f"KILL SWITCH · {self.mode.upper()}", id="dialog-title")
            yield Static(
                f"Halt ALL trading now and cancel {self.open_orders} open order(s)?\n"
                f"Square off also closes {self.positions} open position(s) at market.",
                id="dialog-question",
            )
            with Horizontal(id="dialog-buttons"):
                yield Button("Kill", id="kill", variant="error")
                yield Button("Kill and square off", id="flatten", variant="error")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#kill", Button).focus()

    @on(Button.Pressed, "#kill")
    def kill(self) -> None:
        self.dismiss(KillChoice.KILL)

    @on(Button.Pressed, "#flatten")
    def kill_and_flatten(self) -> None:
        self.dismiss(KillChoice.FLATTEN)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_switch(self) -> None:
        self.focus_next(Button)
