"""The backtests screen: the last saved backtests and the selected one's equity curve.

Runs are saved by ``alphapanda backtest`` (``<home>/backtests``); the App reads them when
the screen opens and hands them over, so this screen never touches storage. Moving the
cursor redraws the chart and the figures line; Escape goes back to the dashboard.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from engine.backtest_report.report import SavedBacktest
from engine.clock import IST
from engine.money import amount, signed_amount
from widgets.equity_chart import EquityChart
from widgets.footer import ConsoleFooter
from widgets.formatting import Palette, money, signed_money

EMPTY_TEXT = "No backtests saved yet: `alphapanda backtest --strategy NAME ...` saves each run."
COLUMNS = (
    "ran (IST)",
    "strategy",
    "ticks",
    "net P&L",
    "trips",
    "win",
    "max DD",
    "Sharpe",
    "source",  # last: a candle run's is long, and it must not push the figures off screen
)
WIDE = 100  # narrower terminals (80x24 over SSH) get the table without its source column


def ran_at(name: str) -> str:
    """'20261207T051628292946-ema-cross' (a UTC stamp) -> '2026-12-07 10:46', in IST as
    every other time on the console."""
    saved = datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    return saved.astimezone(IST).strftime("%Y-%m-%d %H:%M")


def _fraction(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value) * 100:.1f}%"


def _ratio(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value):.2f}"


def figures(run: SavedBacktest) -> list[str]:
    """The selected run's headline figures, each a label with its value."""
    report = run.report
    return [
        f"{run.summary['strategy']} on {run.summary['source']}",
        f"net {signed_amount(Decimal(report['net_pnl']))} "
        f"({report['return_pct']}% of {amount(Decimal(report['capital']))})",
        f"max drawdown {amount(Decimal(report['max_drawdown']))}",
        f"PF {_ratio(report['profit_factor'])}",
        f"Sortino {_ratio(report['sortino'])}",
        f"charges {amount(Decimal(run.summary['charges']))}",
    ]


def figures_line(parts: list[str], width: int) -> str:
    """``parts`` joined by ' · ', broken into lines of ``width`` only between figures, so a
    narrow terminal never cuts one off nor parts a label from its value."""
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "\n".join(lines)


class BacktestsScreen(Screen[None]):
    """The list of runs above the chart of the one under the cursor."""

    DEFAULT_CSS = """
    BacktestsScreen #backtests-title { height: 1; padding: 0 1; text-style: bold; }
    BacktestsScreen #backtests-table { height: auto; max-height: 45%; }
    BacktestsScreen #backtests-figures { height: auto; padding: 0 1; }
    BacktestsScreen #backtests-chart { height: 1fr; border: round $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="backtests.close"),
    ]

    def __init__(self, runs: list[SavedBacktest], palette: Palette) -> None:
        super().__init__()
        self.runs = runs
        self.palette = palette
        self._shown: SavedBacktest | None = None

    def compose(self) -> ComposeResult:
        title = f"Backtests · the last {len(self.runs)}, newest first" if self.runs else EMPTY_TEXT
        yield Static(title, id="backtests-title")
        yield DataTable(id="backtests-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="backtests-figures")
        yield EquityChart(id="backtests-chart")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        table = self.query_one("#backtests-table", DataTable)
        self._fill(table, wide=self.app.size.width >= WIDE)
        table.display = bool(self.runs)
        if self.runs:
            self._show(self.runs[0])

    def on_resize(self) -> None:
        """A terminal narrowed (or widened) past WIDE while open gets the table it would
        have opened with, the cursor kept on its run; the figures line is wrapped anew."""
        table = self.query_one("#backtests-table", DataTable)
        wide = self.app.size.width >= WIDE
        if self._shown is not None:
            self._show(self._shown)
        if self.runs and wide != ("source" in table.columns):
            row = table.cursor_row
            self._fill(table, wide=wide)
            table.move_cursor(row=row)

    def _fill(self, table: DataTable[str | Text], *, wide: bool) -> None:
        table.clear(columns=True)
        shown = [c for c in COLUMNS if c != "source" or wide]
        for column in shown:
            table.add_column(column, key=column)
        for run in self.runs:
            cells = dict(zip(COLUMNS, self._cells(run), strict=True))
            table.add_row(*(cells[c] for c in shown), key=run.name)

    def _cells(self, run: SavedBacktest) -> list[str | Text]:
        summary, report = run.summary, run.report
        return [
            ran_at(run.name),
            str(summary["strategy"]),
            Text(f"{summary['ticks']:,}", justify="right"),
            signed_money(Decimal(report["net_pnl"]), self.palette),
            Text(str(report["trips"]), justify="right"),
            Text(_fraction(report["win_rate"]), justify="right"),
            self._drawdown(Decimal(report["max_drawdown"])),
            Text(_ratio(report["sharpe"]), justify="right"),
            str(summary["source"]),
        ]

    def _drawdown(self, fall: Decimal) -> Text:
        """Never above zero, so never written with a '+' as a gain is."""
        return self.palette.text(money(fall), "$error" if fall < 0 else "", "right")

    @on(DataTable.RowHighlighted, "#backtests-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        run = next((r for r in self.runs if r.name == event.row_key.value), None)
        if run is not None:
            self._show(run)

    def _show(self, run: SavedBacktest) -> None:
        self._shown = run
        line = self.query_one("#backtests-figures", Static)
        line.update(figures_line(figures(run), self.app.size.width - 2))  # less its padding
        curve = [(ts, Decimal(equity)) for ts, equity in run.report["equity_curve"]]
        self.query_one("#backtests-chart", EquityChart).show_curve(curve)

    def action_close(self) -> None:
        self.dismiss(None)
