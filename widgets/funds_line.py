"""The funds line: available, used and total money of the account, one line.

Paper: the paper funds model (cash, realised P&L, charges, margin blocked by positions
and working orders). Live: Kite's ``margins()`` (available is ``net``, used the debits).
On a narrow terminal the labels shorten, then the source goes, before any figure is cut.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from engine.execution.funds import Funds
from engine.read_model.model import FUNDS
from widgets.formatting import PLAIN, Palette, money
from widgets.panel import Frame

LONG = ("Funds{source}  Available ", "  Used ", "  Total ")
SHORT = ("Funds{source}  Avail ", "  Used ", "  Tot ")
SHORTER = ("Funds  Avail ", "  Used ", "  Tot ")
TERSE = ("Avail ", "  Used ", "  Tot ")
_SOURCES = {"paper": " (paper)", "zerodha": " (Zerodha)"}


class FundsLine(Static):
    """One line of the account's funds, redrawn when the read model's funds change."""

    SECTIONS = (FUNDS,)
    DEFAULT_CSS = """
    FundsLine {
        height: 1;
        padding: 0 1;
        background: $boost;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text("Funds: waiting for the venue", style="dim"), **kwargs)
        self._text: Text | None = None
        self._shown: tuple[Funds, Palette] | None = None  # what ``_fit`` last laid out

    def show(self, frame: Frame) -> None:
        funds = frame.model.funds
        if funds is None:
            return
        self._shown = (funds, frame.palette)
        self._fit()

    def on_resize(self) -> None:
        """The labels fit the width the line has now: a scrollbar that comes or goes after
        the last funds change must not leave the longer or the shorter labels behind."""
        self._fit()

    def _fit(self) -> None:
        if self._shown is None:
            return
        funds, palette = self._shown
        room = self.content_region.width
        text = funds_text(funds, LONG, palette)
        for labels in (SHORT, SHORTER, TERSE):
            if not room or text.cell_len <= room:
                break
            text = funds_text(funds, labels, palette)
        if text != self._text:
            self._text = text
            self.update(text, layout=False)  # one line that never wraps: no reflow


def funds_text(funds: Funds, labels: tuple[str, ...], palette: Palette = PLAIN) -> Text:
    """Available (bold), used and total under ``labels``; a negative available in $error."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(labels[0].format(source=_SOURCES.get(funds.source, "")))
    spec = "bold $error" if funds.available < 0 else "bold"
    text.append_text(palette.text(money(funds.available), spec))
    text.append(f"{labels[1]}{money(funds.used)}{labels[2]}{money(funds.total)}")
    return text
