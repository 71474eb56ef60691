"""``EngineErrorScreen``: the engine stopped with an error; say so, then leave cleanly."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button

from screens.dialog import Dialog, dialog_box


class EngineErrorScreen(Dialog[None]):
    """Shown once; any choice closes the console with a failure exit status."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Exit", id="error.exit")]

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        question = (
            f"The trading engine failed: {self.error}\n"
            "No new orders will be sent. See the error log for details."
        )
        with dialog_box("ENGINE STOPPED", question, danger=True):
            yield Button("Exit console", id="exit", variant="error")

    def on_mount(self) -> None:
        self.query_one("#exit", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
