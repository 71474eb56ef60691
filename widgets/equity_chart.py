"""An equity curve drawn in braille with plotext, for the backtests screen and the CLI.

plotext builds the chart as text at a given size; the widget redraws it when its size
or its curve changes. Colourless: the widget's CSS colours it, and the CLI's output
stays readable when piped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual.widgets import Static

from engine.clock import IST

MIN_WIDTH, MIN_HEIGHT = 20, 5


def plot_equity(curve: Sequence[tuple[int, Decimal]], width: int, height: int) -> str:
    """The curve of (time in UTC ns, equity) as ``height`` lines of ``width`` cells: P&L
    since the first sample in whole rupees (plotext alone would write -1.3e3), against
    the samples' IST times (the time of day; the date too when the run spans days)."""
    import plotext

    plotext.terminal.limit(False, False)  # the size asked, not this process's terminal's
    figure = plotext.figure
    figure.clear.all()
    figure.plot_size(max(width, MIN_WIDTH), max(height, MIN_HEIGHT))
    start = curve[0][1]
    pnl = [float(equity - start) for _ts, equity in curve]
    line = figure.signal(list(range(len(curve))), pnl, marker="braille")
    line.lines()
    figure.draw(line)
    figure.ruler("y").ticks(*_rupee_ticks(min(pnl), max(pnl)))
    figure.ruler("x").ticks(*_time_ticks([ts for ts, _equity in curve], max(width, MIN_WIDTH)))
    figure.title("P&L since the start, marked to market (INR) · time (IST)")
    text: str = figure.build().string(colorless=True)
    return text.rstrip("\n")


def _rupee_ticks(low: float, high: float, count: int = 4) -> tuple[list[float], list[str]]:
    """``count`` evenly spaced levels from ``low`` to ``high``, labelled -1,234."""
    if high == low:  # a flat curve: one level, labelled 0 rather than -0
        label = f"{low:,.0f}"
        return [low], ["0" if label == "-0" else label]
    levels = [low + (high - low) * i / (count - 1) for i in range(count)]
    return levels, [f"{level:,.0f}" for level in levels]


def _time_ticks(times: Sequence[int], width: int) -> tuple[list[int], list[str]]:
    """About one label per 16 cells at sample positions: 'HH:MM', or 'MM-DD' over days."""
    moments = [datetime.fromtimestamp(ts / 1e9, IST) for ts in times]
    one_day = moments[0].date() == moments[-1].date()
    count = max(2, min(len(moments), width // 16))
    positions = sorted({round(i * (len(moments) - 1) / (count - 1)) for i in range(count)})
    shape = "%H:%M" if one_day else "%m-%d"
    return positions, [moments[i].strftime(shape) for i in positions]


class EquityChart(Static):
    """Shows one equity curve, or a line saying there is none."""

    DEFAULT_CSS = """
    EquityChart { height: 1fr; color: $success; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._curve: tuple[tuple[int, Decimal], ...] = ()

    def show_curve(self, curve: Sequence[tuple[int, Decimal]]) -> None:
        """(time in UTC ns, equity) samples, oldest first."""
        self._curve = tuple(curve)
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width, height = self.content_size
        if len(self._curve) < 2 or width < MIN_WIDTH or height < MIN_HEIGHT:
            self.update(Text("no equity curve to draw", style="dim"))
            return
        self.update(Text(plot_equity(self._curve, width, height)))
