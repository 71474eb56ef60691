"""``KillConfirmScreen``: the kill switch's one question — kill, kill and square off, or not.

Kill is focused first, so ctrl+k then Enter halts everything in two key presses; squaring
off is a separate, explicit choice because it sends market orders.

Enter is a priority binding of this screen and the choice is handed to ``on_choice`` in
that same key handler: a Button's own Enter would travel up the widget tree as messages
(a dozen loop turns), each queued behind the engine's batches at thousands of ticks a
second. The console enforces the halt there, before the screen is even dismissed.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button

from screens.choice_keys import CHOICE_KEYS, ButtonChoices
from screens.dialog import Dialog, cancel_button, dialog_box, dialog_buttons


class KillChoice(StrEnum):
    KILL = "kill"
    FLATTEN = "flatten"


# Each button's id and its answer, in the order the buttons stand.
_CHOICES: dict[str, KillChoice | None] = {
    "kill": KillChoice.KILL,
    "flatten": KillChoice.FLATTEN,
    "cancel": None,
}


class KillConfirmScreen(ButtonChoices, Dialog[KillChoice | None]):
    """Dismisses with the choice, or None when Escape or Cancel is pressed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="kill.cancel"),
        *CHOICE_KEYS,  # a Right typed just ahead of Enter once chose Kill, not square off
    ]

    def __init__(
        self,
        mode: str,
        open_orders: int,
        positions: int,
        on_choice: Callable[[KillChoice | None], None] | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.open_orders = open_orders
        self.positions = positions
        self.on_choice = on_choice
        self._chosen = False

    def compose(self) -> ComposeResult:
        question = (
            f"Halt ALL trading now and cancel {self.open_orders} open order(s)?\n"
            f"Square off also closes {self.positions} open position(s) at market."
        )
        with dialog_box(f"KILL SWITCH · {self.mode.upper()}", question, danger=True):
            yield dialog_buttons(
                Button("Kill", id="kill", variant="error"),
                Button("Kill and square off", id="flatten", variant="error"),
                cancel_button(),
            )

    CHOICES = tuple(_CHOICES)
    FIRST = "kill"  # ctrl+k, Enter: two keys always halt

    def on_mount(self) -> None:
        self.show_choice()

    def choose(self, choice: KillChoice | None) -> None:
        """Hand the choice over at once (``on_choice``), then close; a second press is ignored."""
        if self._chosen:
            return
        self._chosen = True
        if self.on_choice is not None:
            self.on_choice(choice)
        self.dismiss(choice)

    def choose_button(self, button_id: str) -> None:
        """Enter, in the key handler itself (also typed ahead of the dialog's first frame:
        the keys before it say which button)."""
        self.choose(_CHOICES.get(button_id))

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        """A click on a button: its choice."""
        self.choose(_CHOICES.get(event.button.id or "cancel"))

    def action_cancel(self) -> None:
        self.choose(None)
