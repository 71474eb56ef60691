"""``PrecheckScreen``: the pre-trading checklist shown before live trading goes ACTIVE.

Each check is a line with its verdict and the reason, so the trader sees exactly what
blocks trading and how to fix it. While any check fails the modal offers only Close and
trading stays halted. When all pass, its confirm button is the operator's confirmation
before the first live order of the session: nothing goes to Zerodha until it is pressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Button, Static

from engine.prechecks import CheckResult
from screens.dialog import YesNoDialog, cancel_button, dialog_box, dialog_buttons


def checklist(results: Sequence[CheckResult]) -> Content:
    """One line per check: ``✔ token  valid for 5h12m`` / ``✘ feed  not connected``."""
    width = max((len(r.name) for r in results), default=0)
    lines = [
        Content.from_markup(
            "[bold $success]✔ OK  [/] $name  $reason"
            if r.ok
            else "[bold reverse $error]✘ FAIL[/] $name  $reason",
            name=r.name.ljust(width),
            reason=r.reason,
        )
        for r in results
    ]
    return Content("\n").join(lines)


class PrecheckScreen(YesNoDialog):
    """Dismisses with True only when every check passed and the trader confirmed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prechecks.cancel"),
    ]

    def __init__(self, results: Sequence[CheckResult], state: str) -> None:
        super().__init__()
        self.results = list(results)
        self.state = state
        self.failed = [r for r in self.results if not r.ok]

    def choice_ids(self) -> tuple[str, ...]:
        return ("cancel",) if self.failed else self.CHOICES

    def compose(self) -> ComposeResult:
        with dialog_box("PRE-TRADING CHECKS · LIVE", danger=True):
            yield Static(checklist(self.results), id="prechecks-list")
            if self.failed:
                verdict = (
                    f"{len(self.failed)} check(s) failed: trading stays {self.state}. "
                    "Fix them and press r again."
                )
            else:
                verdict = (
                    f"All checks passed. Trading is {self.state}. Resuming sends REAL orders "
                    "to Zerodha with real money."
                )
            yield Static(verdict, id="dialog-question")
            if self.failed:
                yield dialog_buttons(cancel_button("Close (Esc)"))
            else:
                start = Button("Start LIVE trading", id="confirm", variant="error")
                yield dialog_buttons(start, cancel_button())

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        self.dismiss(not self.failed)
