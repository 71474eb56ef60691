"""The P&L line: the day's realized, unrealized and charges, and equity, with an equity
sparkline.

The figures are the frame's account totals of the trading day, the very ones under the
positions TOTAL: realized + unrealized − charges is the header's Day P&L. Equity (cash +
market value) is the account's, whatever the day. On a narrow terminal the labels shorten
before any figure is cut.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from engine.read_model.model import PNL, POSITIONS
from engine.read_model.views import AccountView
from widgets.formatting import Palette, money, signed_money
from widgets.panel import Frame

LONG_LABELS = ("Realized ", "  Unrealized ", "  Charges ", "  Equity ")
SHORT_LABELS = ("Real ", "  Unreal ", "  Chrg ", "  Eq ")  # Chg heads a price's change


class PnlLine(Horizontal):
    """One line of account P&L; the sparkline shows the equity of recent snapshots."""

    SECTIONS = (PNL, POSITIONS)  # a tick moves the marks: the line follows the table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._figures: Text | None = None
        self._pnl_version = -1  # the P&L section last drawn into the sparkline

    def compose(self) -> ComposeResult:
        yield Static(Text("P&L: waiting for the first snapshot", style="dim"), id="pnl-figures")
        yield Sparkline([], id="pnl-sparkline")

    def show(self, frame: Frame) -> None:
        if frame.model.pnl is None and not frame.model.positions:
            return
        account = frame.account
        text = figures(account, frame.palette, LONG_LABELS)
        room = self.query_one("#pnl-figures", Static).size.width
        if room and text.cell_len > room:
            text = figures(account, frame.palette, SHORT_LABELS)
        if text != self._figures:
            self._figures = text
            # One line that never wraps: no layout pass (it would reflow the whole screen).
            self.query_one("#pnl-figures", Static).update(text, layout=False)
        version = frame.model.sections[PNL]
        if version != self._pnl_version:  # ticks move the figures, only snapshots the line
            self._pnl_version = version
            self.query_one("#pnl-sparkline", Sparkline).data = list(frame.model.equity_history)


def figures(account: AccountView, palette: Palette, labels: tuple[str, ...]) -> Text:
    """One line of account figures under ``labels`` (long or short)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(labels[0])
    text.append_text(signed_money(account.realized_pnl, palette))
    text.append(labels[1])
    text.append_text(signed_money(account.unrealized_pnl, palette))
    text.append(f"{labels[2]}{money(account.charges)}{labels[3]}")
    text.append(money(account.equity), style="bold")
    return text
