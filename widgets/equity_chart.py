"""An equity curve drawn in braille with plotext, for the backtests screen and the CLI.

plotext builds the chart as text at a given size; the widget redraws it when its size
or its curve changes. Colourless: the widget's CSS colours it, and the CLI's output
stays readable when piped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 20, 5


def plot_equity(equities: Sequence[Decimal], width: int, height: int) -> str:
    """The curve as ``height`` lines of ``width`` cells: P&L since the first sample, in
    rupees (equity itself would label the axis 1.000e6), against sample order."""
    import plotext

    plotext.terminal.limit(False, False)  # the size asked, not this process's terminal's
    figure = plotext.figure
    figure.clear.all()
    figure.plot_size(max(width, MIN_WIDTH), max(height, MIN_HEIGHT))
    xs = list(range(len(equities)))
    start = equities[0]
    line = figure.signal(xs, [float(e - start) for e in equities], marker="braille")
    line.lines()
    figure.draw(line)
    figure.title("P&L since the start, marked to market (INR)")
    text: str = figure.build().string(colorless=True)
    return text.rstrip("\n")


class EquityChart(Static):
    """Shows one equity curve, or a line saying there is none."""

    DEFAULT_CSS = """
    EquityChart { height: 1fr; color: $success; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._equities: tuple[Decimal, ...] = ()

    def show_curve(self, equities: Sequence[Decimal]) -> None:
        self._equities = tuple(equities)
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width, height = self.content_size
        if len(self._equities) < 2 or width < MIN_WIDTH or height < MIN_HEIGHT:
            self.update(Text("no equity curve to draw", style="dim"))
            return
        self.update(Text(plot_equity(self._equities, width, height)))
