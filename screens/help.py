"""The help screen: every key the console answers to, read from the action registry."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.actions import ACTIONS, display_key
from screens.dialog import Dialog

PANEL_KEYS: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "Move between panels"),
    (
        "↑ ↓",
        "Select a row (in Strategies: the strategy h acts on; in Positions: the position "
        "e, E and p act on)",
    ),
    ("v · c · / · f", "Log viewer: level, channel, search, pause or follow"),
    (
        "1 · 2 · 3 · x · m",
        "Orders book: show open / all / rejected orders; x cancels the selected working "
        "order (confirm); m modifies its price, trigger or quantity; Enter: the order's detail",
    ),
    ("ctrl+p", "Command palette: every action by name"),
    ("Enter / Esc", "In a dialog: choose / cancel"),
)


class HelpScreen(Dialog[None]):
    """Closed with Escape or ?; the kill switch still works while it is open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for action in ACTIONS:
            table.add_row(display_key(action), action.help)
        for key, what in PANEL_KEYS:
            table.add_row(key, what)
        with VerticalScroll(id="help-body"):
            yield Static("AlphaPanda · keys", id="help-title")
            yield Static(table, id="help-keys")
            yield Static("Esc closes this help", id="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)
