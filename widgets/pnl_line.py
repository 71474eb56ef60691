"""The P&L line: realized, unrealized, charges and equity, with an equity sparkline."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from engine.read_model.model import PNL
from widgets.formatting import money, signed_money
from widgets.panel import Frame


class PnlLine(Horizontal):
    """One line of account P&L; the sparkline shows the equity of recent snapshots."""

    SECTIONS = (PNL,)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._figures: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("P&L: waiting for the first snapshot", style="dim"), id="pnl-figures")
        yield Sparkline([], id="pnl-sparkline")

    def show(self, frame: Frame) -> None:
        pnl = frame.model.pnl
        if pnl is None:
            return
        palette = frame.palette
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Realized ")
        text.append_text(signed_money(pnl.realized_pnl, palette))
        text.append("  Unrealized ")
        text.append_text(signed_money(pnl.unrealized_pnl, palette))
        text.append(f"  Charges {money(pnl.charges)}  Equity ")
        text.append(money(pnl.equity), style="bold")
        if text != self._figures:
            self._figures = text
            # One line that never wraps: no layout pass (it would reflow the whole screen).
            self.query_one("#pnl-figures", Static).update(text, layout=False)
        self.query_one("#pnl-sparkline", Sparkline).data = list(frame.model.equity_history)
