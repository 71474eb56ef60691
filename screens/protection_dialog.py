"""``ProtectionScreen``: set or clear a position's stop-loss, target and trailing stop.

Each level is typed as a price (``1390``) or a percent (``2%``: of the average price for
the stop and the target, of the best price since for the trail); blank leaves it unset.
Each field is checked as it is typed and Set stays disabled while one is wrong. The engine
checks the levels again (side, tick size) and refuses with an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static

from engine.read_model.views import PositionView
from engine.trading_state.operator import ProtectionLevels
from screens.dialog import Dialog, cancel_button, dialog_box, dialog_buttons

FIELDS = (
    ("stop", "Stop-loss", "price or % below the average (long)"),
    ("target", "Target", "price or % beyond the average"),
    ("trail", "Trailing stop", "distance or % from the best price"),
)
Level = tuple[Decimal | None, Decimal | None]  # (absolute, percent): at most one set


@dataclass(frozen=True, slots=True)
class ProtectionChoice:
    """What the trader chose: these levels, or (``levels`` None) clear them all."""

    levels: ProtectionLevels | None


def parse_level(text: str) -> Level:
    """``"1390"`` → (1390, None); ``"2%"`` → (None, 2); blank → (None, None).

    Raises ValueError with a sentence for anything else (the dialog shows it)."""
    stripped = text.strip().replace(",", "")
    if not stripped:
        return None, None
    percent = stripped.endswith("%")
    number = stripped.removesuffix("%").strip()
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not a price or a percent: {text.strip()}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("must be positive")
    if percent:
        if value >= 100:
            raise ValueError("a percent is below 100")
        return None, value
    return value, None


def levels_from(texts: dict[str, str]) -> ProtectionLevels:
    """The three typed fields as the levels to send; ValueError ``"Stop-loss: …"``."""
    parsed: dict[str, Level] = {}
    for key, label, _ in FIELDS:
        try:
            parsed[key] = parse_level(texts.get(key, ""))
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
    if all(a is None and b is None for a, b in parsed.values()):
        raise ValueError("type at least one level (or Clear all)")
    (stop, stop_pct), (target, target_pct), (trail, trail_pct) = (
        parsed["stop"],
        parsed["target"],
        parsed["trail"],
    )
    return ProtectionLevels(stop, stop_pct, target, target_pct, trail, trail_pct)


class ProtectionScreen(Dialog[ProtectionChoice | None]):
    """Dismisses with a ``ProtectionChoice`` on Set or Clear all; None on Escape."""

    DEFAULT_CSS = """
    ProtectionScreen .protect-row { height: auto; }
    ProtectionScreen .protect-label { width: 15; padding: 1 0 0 0; }
    ProtectionScreen .protect-row Input { width: 1fr; }
    ProtectionScreen #protect-problem { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="protect.cancel"),
    ]

    def __init__(self, view: PositionView, current: str = "") -> None:
        super().__init__()
        self.view = view
        self.current = current

    def compose(self) -> ComposeResult:
        side = "long" if self.view.net_quantity > 0 else "short"
        symbol = self.view.symbol.removeprefix("NSE:")
        what = f"{symbol} of {self.view.strategy}: {side} {abs(self.view.net_quantity):,d}"
        now = self.current or "none"
        with dialog_box("Stop-loss, target, trailing stop", f"{what}\nNow: {now}"):
            for key, label, hint in FIELDS:
                with Horizontal(classes="protect-row"):
                    yield Static(label, classes="protect-label")
                    yield Input(placeholder=hint, id=f"protect-{key}")
            yield Static("", id="protect-problem")
            yield dialog_buttons(
                Button("Set", id="confirm", variant="warning", disabled=True),
                Button("Clear all", id="clear"),
                cancel_button(),
            )

    def on_mount(self) -> None:
        self.query_one("#protect-stop", Input).focus()

    def _texts(self) -> dict[str, str]:
        return {key: self.query_one(f"#protect-{key}", Input).value for key, _, _ in FIELDS}

    @on(Input.Changed)
    def _check(self) -> None:
        problem = ""
        try:
            levels_from(self._texts())
        except ValueError as exc:
            problem = str(exc)
        typed = any(text.strip() for text in self._texts().values())
        self.query_one("#protect-problem", Static).update(problem if typed else "")
        self.query_one("#confirm", Button).disabled = bool(problem)

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        try:
            levels = levels_from(self._texts())
        except ValueError:
            return  # the problem is on screen; nothing is sent
        self.dismiss(ProtectionChoice(levels))

    @on(Button.Pressed, "#clear")
    def clear(self) -> None:
        self.dismiss(ProtectionChoice(None))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
