"""``alphapanda backtest``'s default output: the report as tables and an equity chart.

Drawn from the report's JSON (``engine.backtest_report.report``), the same data
``--json`` prints and the archive keeps, so a figure reads the same everywhere.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from engine.money import amount, signed_amount
from widgets.equity_chart import plot_equity

TRADES_SHOWN = 20  # the newest trips; the HTML page and --json carry all of them
CHART_HEIGHT = 14
PIPED_WIDTH = 110  # rich's 80 columns would fold the trade list


def percent(value: str | None) -> str:
    """'12.3456' (a fraction) -> '1,234.56%'; '—' when the figure does not exist."""
    return "—" if value is None else f"{Decimal(value) * 100:,.2f}%"


def ratio(value: str | None) -> str:
    return "—" if value is None else f"{Decimal(value):.2f}"


def pnl(value: str | None) -> Text:
    if value is None:
        return Text("—", justify="right")
    number = Decimal(value)
    style = "green" if number > 0 else "red" if number < 0 else ""
    return Text(signed_amount(number), style=style, justify="right")


def drawdown(value: str) -> Text:
    """A fall from a peak: never above zero, so never written with a '+'."""
    number = Decimal(value)
    return Text(amount(number), style="red" if number < 0 else "", justify="right")


def headline_rows(summary: dict[str, Any], report: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures a trader reads first, as (label, value) text."""
    drawdown = f"{amount(Decimal(report['max_drawdown']))} ({report['max_drawdown_pct']}%)"
    rows = [
        ("Strategy", f"{summary['strategy']}  ({summary['source']})"),
        ("Ticks", f"{summary['ticks']:,} in {summary['seconds']} s"),
        ("Net P&L", f"{signed_amount(Decimal(report['net_pnl']))}  ({report['return_pct']}%)"),
        ("Capital base", amount(Decimal(report["capital"]))),
        ("Charges", amount(Decimal(summary["charges"]))),
        ("Max drawdown", drawdown),
        ("Round trips", f"{report['trips']} ({report['wins']} won, {report['losses']} lost)"),
        ("Win rate", percent(report["win_rate"])),
        ("Profit factor", ratio(report["profit_factor"])),
        (
            f"Sharpe / Sortino (daily, {report['annualisation']})",
            f"{ratio(report['sharpe'])} / {ratio(report['sortino'])} over "
            + (f"{report['days']} days" if report["days"] != 1 else "1 day"),
        ),
        (
            "Orders / fills / rejections",
            f"{summary['orders']} / {summary['fills']} / {summary['rejections']}",
        ),
    ]
    if report["drawdown_peak"]:  # a row of its own: beside the amount it wraps at 80 columns
        span = _span(report["drawdown_peak"], report["drawdown_trough"])
        rows.insert(6, ("  peak → trough", span))
    return rows


def _span(start: str, end: str) -> str:
    """Two ISO IST times as '2026-12-07 09:00:00 → 11:40:25 (IST)', the date once if shared."""
    first = f"{start[:10]} {start[11:19]}"
    second = end[11:19] if end[:10] == start[:10] else f"{end[:10]} {end[11:19]}"
    return f"{first} → {second} (IST)"


def report_table(title: str, *columns: str) -> Table:
    """Text columns on the left; figures on the right, never wrapped, so when the terminal
    is narrow the text columns give way and no amount is ever cut or folded."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for name in columns:
        text = name in {"", "value", "day", "symbol", "side", "parameters"}
        table.add_column(
            name, justify="left" if text else "right", no_wrap=not text, overflow="fold"
        )
    return table


def natural_width(table: Table) -> int:
    """The cells ``table`` needs to show every cell on one line, uncut."""
    return Console(width=10_000, file=io.StringIO()).measure(table).maximum


def fitted_table(
    build: Callable[[frozenset[str]], Table], optional: Sequence[str], width: int
) -> Table:
    """``build(left_out)`` with the fewest of ``optional`` (dropped in that order) left out
    so that it fits ``width``; what is left out is named under the table."""
    for count in range(len(optional) + 1):
        left_out = frozenset(optional[:count])
        table = build(left_out)
        if natural_width(table) <= width:
            break
    if left_out:
        names = ", ".join(name for name in optional if name in left_out)
        table.caption = f"not shown at this width: {names} (a wider terminal or --json)"
        table.caption_justify = "left"
    return table


def report_console() -> Console:
    """stdout: a terminal at its own width; a pipe at ``$COLUMNS`` when it is set (what
    the reader said the page is), else PIPED_WIDTH."""
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS", "").isdigit()
    return Console(highlight=False, width=PIPED_WIDTH if piped else None)


def report_renderables(summary: dict[str, Any], report: dict[str, Any], width: int) -> Group:
    headline = report_table("Backtest", "", "value")
    for label, value in headline_rows(summary, report):
        headline.add_row(label, value)
    parts: list[RenderableType] = [headline]
    days = report_table("P&L per day", "day", "P&L", "charges", "orders", "fills", "halts")
    for day in report["per_day"]:
        days.add_row(
            day["day"],
            pnl(day.get("pnl")),
            _amount(day.get("charges")),
            str(day["orders"]),
            str(day["fills"]),
            str(day["halts"]),
        )
    parts.append(days)
    instruments = report_table(
        "P&L per instrument", "symbol", "P&L", "realized", "charges", "trips"
    )
    for row in report["per_instrument"]:
        instruments.add_row(
            row["symbol"],
            pnl(row["pnl"]),
            pnl(row["realized_pnl"]),
            _amount(row["charges"]),
            str(row["trips"]),
        )
    parts.append(
        instruments if report["per_instrument"] else Text("P&L per instrument: none traded")
    )
    if summary["halts"]:
        halts = report_table("Automatic halts", "day", "time", "rule", "lifted")
        for halt in summary["halts"]:
            halts.add_row(halt["day"], halt["time"], halt["rule"], halt["lifted"] or "held")
        parts.append(halts)
    trips = report["trade_list"]
    parts.append(trades_table(trips, width) if trips else Text("Round trips: none"))
    curve = [(ts, Decimal(equity)) for ts, equity in report["equity_curve"]]
    if len(curve) >= 2:
        parts.append(Text(plot_equity(curve, min(width, 100), CHART_HEIGHT)))
    return Group(*parts)


def trades_table(trips: list[dict[str, Any]], width: int) -> Table:
    """The newest round trips, one line each; times without their date when every shown
    trip is of one day (the title names it), and the quantity left out if still too wide."""
    shown = trips[-TRADES_SHOWN:]
    days = {t["entry"][:10] for t in shown} | {t["exit"][:10] for t in shown if t["exit"]}
    when = _when if len(days) > 1 else _time
    title = "Round trips" + (f" on {min(days)}" if len(days) == 1 else "") + " (IST)"
    if len(shown) < len(trips):
        title += f": the last {len(shown)} of {len(trips)} (all in --json and --report)"

    def build(left_out: frozenset[str]) -> Table:
        columns = ["symbol", "side", "qty", "entry", "price", "exit", "price", "net P&L"]
        table = report_table(title, *(c for c in columns if c not in left_out))
        for trip in shown:
            cells = {
                "symbol": trip["symbol"],
                "side": trip["side"],
                "qty": str(trip["quantity"]),
            }
            table.add_row(
                *(cells[c] for c in ("symbol", "side", "qty") if c not in left_out),
                when(trip["entry"]),
                amount(Decimal(trip["entry_price"])),
                when(trip["exit"]) if trip["exit"] else "OPEN",
                _amount(trip["mark_price"] if trip["open"] else trip["exit_price"]),
                pnl(trip["net_pnl"]),
            )
        if any(t["open"] for t in shown):
            table.caption = "OPEN: still held at the end, marked at the last price shown"
        return table

    return fitted_table(build, ("qty",), width)


def _amount(value: str | None) -> str:
    return "—" if value is None else amount(Decimal(value))


def _when(iso: str) -> str:
    """'2024-01-02T09:20:05+05:30' -> '01-02 09:20:05' (IST, as the report writes it)."""
    return f"{iso[5:10]} {iso[11:19]}"


def _time(iso: str) -> str:
    """'2024-01-02T09:20:05+05:30' -> '09:20:05'."""
    return iso[11:19]


def print_report(summary: dict[str, Any], report: dict[str, Any]) -> None:
    console = report_console()
    console.print(report_renderables(summary, report, console.width))
