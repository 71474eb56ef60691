"""``alphapanda backtest``'s default output: the report as tables and an equity chart.

Drawn from the report's JSON (``engine.backtest_report.report``), the same data
``--json`` prints and the archive keeps, so a figure reads the same everywhere.
"""

from __future__ import annotations

import sys
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


def headline_rows(summary: dict[str, Any], report: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures a trader reads first, as (label, value) text."""
    drawdown = f"{amount(Decimal(report['max_drawdown']))} ({report['max_drawdown_pct']}%)"
    if report["drawdown_peak"]:
        drawdown += f"  {report['drawdown_peak']} → {report['drawdown_trough']}"
    return [
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
            f"{ratio(report['sharpe'])} / {ratio(report['sortino'])} over {report['days']} days",
        ),
        (
            "Orders / fills / rejections",
            f"{summary['orders']} / {summary['fills']} / {summary['rejections']}",
        ),
    ]


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(
            name, justify="left" if name in {"", "value", "day", "symbol", "side"} else "right"
        )
    return table


def report_renderables(summary: dict[str, Any], report: dict[str, Any], width: int) -> Group:
    headline = _table("Backtest", "", "value")
    for label, value in headline_rows(summary, report):
        headline.add_row(label, value)
    parts: list[RenderableType] = [headline]
    days = _table("P&L per day", "day", "P&L", "charges", "orders", "fills", "halts")
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
    instruments = _table("P&L per instrument", "symbol", "P&L", "realized", "charges", "trips")
    for row in report["per_instrument"]:
        instruments.add_row(
            row["symbol"],
            pnl(row["pnl"]),
            _amount(row["realized_pnl"]),
            _amount(row["charges"]),
            str(row["trips"]),
        )
    parts.append(instruments)
    if summary["halts"]:
        halts = _table("Automatic halts", "day", "time", "rule", "lifted")
        for halt in summary["halts"]:
            halts.add_row(halt["day"], halt["time"], halt["rule"], halt["lifted"] or "held")
        parts.append(halts)
    parts.append(trades_table(report["trade_list"]))
    equities = [Decimal(e) for _ts, e in report["equity_curve"]]
    if len(equities) >= 2:
        parts.append(Text(plot_equity(equities, width, CHART_HEIGHT)))
    return Group(*parts)


def trades_table(trips: list[dict[str, Any]]) -> Table:
    shown = trips[-TRADES_SHOWN:]
    title = (
        "Round trips"
        if len(shown) == len(trips)
        else (f"Round trips: the last {len(shown)} of {len(trips)} (all in --json and --report)")
    )
    table = _table(title, "symbol", "side", "qty", "entry", "price", "exit", "price", "net P&L")
    for trip in shown:
        table.add_row(
            trip["symbol"],
            trip["side"],
            str(trip["quantity"]),
            _when(trip["entry"]),
            amount(Decimal(trip["entry_price"])),
            _when(trip["exit"]) if trip["exit"] else "open",
            amount(Decimal(trip["exit_price"])) if trip["exit_price"] else "—",
            pnl(trip["net_pnl"]),
        )
    return table


def _amount(value: str | None) -> str:
    return "—" if value is None else amount(Decimal(value))


def _when(iso: str) -> str:
    """'2024-01-02T09:20:05+05:30' -> '01-02 09:20:05' (IST, as the report writes it)."""
    return f"{iso[5:10]} {iso[11:19]}"


def print_report(summary: dict[str, Any], report: dict[str, Any]) -> None:
    console = Console(highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)
    console.print(report_renderables(summary, report, min(console.width, 100)))
