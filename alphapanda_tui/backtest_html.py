"""``backtest --report FILE.html``: one self-contained page, charts drawn here as inline SVG.

No script, no stylesheet or font from anywhere: the page opens offline and can be
mailed as one file. Drawn from the report's JSON, like the terminal output.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html import escape
from typing import Any

from alphapanda_tui.backtest_text import headline_rows
from engine.clock import IST, ns_to_datetime
from engine.money import amount, signed_amount

CHART_W, CHART_H, PAD = 900, 260, 40
STYLE = """
body{font:14px system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
table{border-collapse:collapse;margin:0 0 1.5em}td,th{padding:2px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}tr:nth-child(even){background:#f3f3f3}
.loss{color:#b00020}.gain{color:#006d32}svg{background:#fafafa;border:1px solid #ddd}
"""


def svg_line_chart(
    values: list[Decimal], title: str, colour: str, times: tuple[str, str] = ("", "")
) -> str:
    """A polyline of ``values`` in sample order, its range on the y axis and ``times`` (the
    first and last sample's times) under its ends; empty under 2."""
    if len(values) < 2:
        return f"<p>{escape(title)}: not enough samples to draw.</p>"
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)
    width, height = CHART_W - 2 * PAD, CHART_H - 2 * PAD
    step = Decimal(width) / (len(values) - 1)
    points = " ".join(
        f"{PAD + step * i:.1f},{PAD + (high - v) / span * height:.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" '
        f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{escape(title)}">'
        f'<text x="{PAD}" y="22">{escape(title)}</text>'
        f'<text x="{CHART_W - PAD}" y="{PAD - 4}" text-anchor="end">{high:,.2f}</text>'
        f'<text x="{CHART_W - PAD}" y="{CHART_H - PAD + 16}" text-anchor="end">{low:,.2f}</text>'
        f'<text x="{PAD}" y="{CHART_H - 8}">{escape(times[0])}</text>'
        f'<text x="{CHART_W - PAD}" y="{CHART_H - 8}" text-anchor="end">{escape(times[1])}</text>'
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/></svg>'
    )


def drawdowns(equities: list[Decimal]) -> list[Decimal]:
    """Each sample's fall from the highest equity before it (<= 0)."""
    peak, falls = None, []
    for equity in equities:
        peak = equity if peak is None or equity > peak else peak
        falls.append(equity - peak)
    return falls


def _cell(value: Any) -> str:
    text = "—" if value is None else str(value)
    css = ""
    if isinstance(value, str) and value[:1] in "-+" and value[1:2].isdigit():
        css = ' class="loss"' if value.startswith("-") else ' class="gain"'
    return f"<td{css}>{escape(text)}</td>"


def html_table(title: str, columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def _money(value: str | None) -> str | None:
    return None if value is None else amount(Decimal(value))


def _pnl(value: str | None) -> str | None:
    return None if value is None else signed_amount(Decimal(value))


def _ist(value: str | None) -> str | None:
    """'2024-01-01T09:41:48+05:30' -> '2024-01-01 09:41:48' (the headers say IST)."""
    return None if value is None else f"{value[:10]} {value[11:19]}"


# (key in the report's JSON, header, how the value is written): money as the terminal
# writes it, so the page and the printed report read the same figures the same way
Column = tuple[str, str, Callable[[Any], Any]]


def _plain(*keys: str) -> list[Column]:
    """Columns shown as they are, headed by their own key."""
    return [(key, key, str) for key in keys]


PNL: Column = ("pnl", "P&L", _pnl)
REALIZED: Column = ("realized_pnl", "realized", _pnl)
CHARGES: Column = ("charges", "charges", _money)
DAY_COLUMNS: list[Column] = [
    *_plain("day"),
    PNL,
    REALIZED,
    CHARGES,
    *_plain("orders", "fills", "halts"),
]
INSTRUMENT_COLUMNS: list[Column] = [
    *_plain("symbol"),
    PNL,
    REALIZED,
    ("unrealized_pnl", "unrealized", _pnl),
    CHARGES,
    *_plain("trips"),
]
HALT_COLUMNS: list[Column] = [
    *_plain("day"),
    ("time", "time (IST)", str),
    *_plain("rule", "reason"),
    ("lifted", "lifted", lambda v: v),
]
TRIP_COLUMNS: list[Column] = [
    *_plain("symbol", "strategy", "side"),
    ("quantity", "qty", str),
    ("entry", "entry (IST)", _ist),
    ("entry_price", "price", _money),
    ("exit", "exit (IST)", lambda v: _ist(v) if v else "OPEN, marked at"),
    ("exit_price", "price", _money),
    ("gross_pnl", "gross P&L", _pnl),
    CHARGES,
    ("net_pnl", "net P&L", _pnl),
]


def _sample_time(ts: int) -> str:
    return ns_to_datetime(ts, IST).strftime("%Y-%m-%d %H:%M:%S IST")


def _rows_table(title: str, columns: list[Column], rows: list[dict[str, Any]]) -> str:
    return html_table(
        title,
        [header for _key, header, _shape in columns],
        [[shape(row.get(key)) for key, _header, shape in columns] for row in rows],
    )


def _priced(trip: dict[str, Any]) -> dict[str, Any]:
    """An open trip's price is the last price it was marked at, as its P&L is."""
    return trip | {"exit_price": trip["mark_price"]} if trip["open"] else trip


def report_page(summary: dict[str, Any], report: dict[str, Any]) -> str:
    curve = report["equity_curve"]
    equities = [Decimal(e) for _ts, e in curve]
    span = (_sample_time(curve[0][0]), _sample_time(curve[-1][0])) if curve else ("", "")
    sections = [
        f"<h1>Backtest: {escape(str(summary['strategy']))}</h1>",
        html_table("Summary", ["", ""], [list(row) for row in headline_rows(summary, report)]),
        svg_line_chart(equities, "Equity, marked to market (₹)", "#1f5fbf", span),
        svg_line_chart(drawdowns(equities), "Drawdown from the running peak (₹)", "#b00020", span),
        _rows_table("P&L per day", DAY_COLUMNS, report["per_day"]),
        _rows_table("P&L per instrument", INSTRUMENT_COLUMNS, report["per_instrument"]),
        _rows_table("Automatic halts", HALT_COLUMNS, summary["halts"]),
        _rows_table("Round trips", TRIP_COLUMNS, [_priced(t) for t in report["trade_list"]]),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Backtest {escape(str(summary['strategy']))}</title><style>{STYLE}</style>"
        f"</head><body>{''.join(sections)}</body></html>\n"
    )
