"""``ConfirmScreen``: a yes / no question as a modal; Escape always means no."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button

from screens.dialog import YesNoDialog, cancel_button, dialog_box, dialog_buttons


class ConfirmScreen(YesNoDialog):
    """Dismisses with True only when the trader chooses the confirming button."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, title: str, question: str, confirm_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text, self.question):
            yield dialog_buttons(
                Button(self.confirm_label, id="confirm", variant="warning"), cancel_button()
            )

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        self.dismiss(True)
