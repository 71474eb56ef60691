"""``alphapanda backtest``'s report through the real CLI: tables and chart by default,
the whole report under ``--json``, one offline HTML page, and the archive of past runs."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.test_backtest import backtest, summary_of

RUN = ("--strategy", "ema-cross", "--synthetic", "6000", "--seed", "3")
# The EMA cross on every tick, in the tests' own strategies file: the report needs round
# trips, whatever bar interval the bundled defaults choose to trade on.
TICK_EMA_CROSS = """\
strategies:
  - name: ema-cross
    kind: ema_cross
    params: {fast: 12, slow: 26, quantity: 10}
    instruments: [NSE:RELIANCE, NSE:INFY, NSE:HDFCBANK]
    broker: paper
"""


@pytest.fixture(autouse=True)
def tick_ema_cross(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = isolated_home / "strategies.yaml"
    path.write_text(TICK_EMA_CROSS)
    monkeypatch.setenv("ALPHAPANDA_STRATEGIES_FILE", str(path))
    return path


def test_the_default_output_is_the_report_a_trader_reads() -> None:
    run = backtest(*RUN)

    assert run.returncode == 0, run.stderr
    for line in ("Net P&L", "Max drawdown", "Win rate", "Profit factor", "sqrt(252)"):
        assert line in run.stdout
    assert "P&L per day" in run.stdout and "P&L per instrument" in run.stdout
    assert "Round trips" in run.stdout
    assert "P&L since the start, marked to market" in run.stdout  # the chart's title
    assert any(ch in run.stdout for ch in "⠁⠂⠄⡀⠈⠐⠠⢀")  # braille: the curve was drawn


def test_json_carries_a_report_whose_money_adds_up() -> None:
    summary = summary_of(backtest(*RUN, "--json", "--capital", "250000"))
    report = summary["report"]
    assert isinstance(report, dict)

    net = Decimal(report["net_pnl"])
    assert net == Decimal(str(summary["equity_end"])) - Decimal(str(summary["equity_start"]))
    assert sum(Decimal(d["pnl"]) for d in report["per_day"]) == net
    assert sum(Decimal(i["pnl"]) for i in report["per_instrument"]) == net
    trips = report["trade_list"]
    assert sum(Decimal(t["charges"]) for t in trips) == Decimal(str(summary["charges"]))
    assert report["trips"] == sum(1 for t in trips if t["exit"] is not None) > 0
    assert Decimal(report["max_drawdown"]) <= 0
    assert report["capital"] == "250000"
    assert Decimal(report["return_pct"]) == (net / 250000 * 100).quantize(Decimal("0.0001"))
    assert len(report["equity_curve"]) >= 2


def test_report_file_is_one_self_contained_page(tmp_path: Path) -> None:
    page = tmp_path / "run.html"

    run = backtest(*RUN, "--report", str(page))

    assert run.returncode == 0, run.stderr
    html = page.read_text()
    assert html.count("<svg") == 2  # the equity curve and its drawdown
    assert "<polyline" in html and "Round trips" in html and "P&amp;L per day" in html
    for outside in ("<script", "src=", "<link", "@import", "url("):
        assert outside not in html


def test_the_page_writes_money_as_the_terminal_does(tmp_path: Path) -> None:
    """Every amount with two decimals and thousands separators (1,949.20, not 1949.2000),
    headers in words, and the net P&L of each trip as the JSON has it."""
    import re

    from engine.money import amount, signed_amount

    page = tmp_path / "run.html"
    trips = summary_of(backtest(*RUN, "--json"))["report"]["trade_list"]  # type: ignore[index]
    assert backtest(*RUN, "--report", str(page)).returncode == 0
    html = page.read_text()

    assert "_pnl" not in html and "entry_price" not in html
    assert not re.search(r">-?\d+\.\d{3,}<", html)  # no four-place Decimal strings
    for trip in trips:
        assert f">{amount(Decimal(trip['entry_price']))}<" in html
        assert f">{signed_amount(Decimal(trip['net_pnl']))}<" in html


@pytest.mark.parametrize("where", ["missing/run.html", "."], ids=["no directory", "a directory"])
def test_a_report_that_cannot_be_written_is_refused_before_the_run(
    tmp_path: Path, where: str
) -> None:
    """Not after minutes of replay: the run never starts (its --log-dir stays empty)."""
    run = backtest(*RUN, "--report", str(tmp_path / where), "--log-dir", str(tmp_path / "d"))

    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "--report" in run.stderr
    assert not (tmp_path / "d").exists()


def test_a_run_without_trades_says_so_instead_of_printing_empty_tables() -> None:
    run = backtest("--strategy", "ema-cross", "--synthetic", "20")  # too few for a signal

    assert run.returncode == 0, run.stderr
    assert "Round trips: none" in run.stdout and "P&L per instrument: none traded" in run.stdout
    assert "symbol ┃ side" not in run.stdout and "-0┤" not in run.stdout


def test_the_page_charts_say_when_the_curve_starts_and_ends(tmp_path: Path) -> None:
    from engine.clock import IST, ns_to_datetime

    page = tmp_path / "run.html"
    curve = summary_of(backtest(*RUN, "--json"))["report"]["equity_curve"]  # type: ignore[index]
    assert backtest(*RUN, "--report", str(page)).returncode == 0
    html = page.read_text()

    for ts in (curve[0][0], curve[-1][0]):
        label = ns_to_datetime(ts, IST).strftime("%Y-%m-%d %H:%M:%S IST")
        assert html.count(f">{label}</text>") == 2  # on the equity and the drawdown chart


def test_each_run_is_archived_and_only_the_newest_are_kept(isolated_home: Path) -> None:
    os.environ["ALPHAPANDA_BACKTESTS__KEEP"] = "2"  # isolated_home's monkeypatch undoes
    try:
        outputs = [summary_of(backtest(*RUN[:-1], seed, "--json")) for seed in ("1", "2", "3")]
    finally:
        del os.environ["ALPHAPANDA_BACKTESTS__KEEP"]

    saved = sorted((isolated_home / "backtests").glob("*.json"))
    assert len(saved) == 2
    kept = [json.loads(path.read_text()) for path in saved]
    assert [k["summary"]["seed"] for k in kept] == [2, 3]  # the oldest went
    assert kept[-1]["report"]["equity_curve"] == outputs[-1]["report"]["equity_curve"]  # type: ignore[index]


def test_a_capital_base_that_is_not_positive_is_refused_in_one_line() -> None:
    run = backtest(*RUN, "--capital", "0")

    assert run.returncode == 2
    assert "the capital base must be above 0, not 0" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_run_that_cannot_be_archived_still_prints_its_report(isolated_home: Path) -> None:
    (isolated_home / "backtests").write_text("a file where the folder should be")

    run = backtest(*RUN, "--json")

    assert summary_of(run)["report"]
    assert "the run was not saved for the console" in run.stderr


def test_sharpe_and_sortino_are_the_daily_pnl_over_the_capital_base() -> None:
    """Recomputed from the report's own per-day P&L: the wiring from the book's days to
    the ratios (the formulas themselves are checked by hand in the unit tests)."""
    summary = summary_of(
        backtest("--strategy", "ema-cross", "--synthetic", "140000", "--seed", "4", "--json")
    )
    report = summary["report"]
    assert isinstance(report, dict)
    returns = [Decimal(day["pnl"]) / Decimal(report["capital"]) for day in report["per_day"]]
    assert report["days"] == len(returns) >= 2  # the seeded walk spans trading days

    mean = sum(returns, Decimal(0)) / len(returns)
    sd = (sum(((r - mean) ** 2 for r in returns), Decimal(0)) / (len(returns) - 1)).sqrt()
    downside = (sum((min(r, Decimal(0)) ** 2 for r in returns), Decimal(0)) / len(returns)).sqrt()
    annual = Decimal(252).sqrt()
    assert Decimal(report["sharpe"]) == (mean / sd * annual).quantize(Decimal("0.0001"))
    assert Decimal(report["sortino"]) == (mean / downside * annual).quantize(Decimal("0.0001"))


def _fits_80_columns(text: str) -> None:
    """Every line within 80 cells and nothing cut short with an ellipsis."""
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in text, text


def test_at_80_columns_no_money_is_cut_and_each_round_trip_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.money import amount, signed_amount

    report = summary_of(backtest(*RUN, "--json"))["report"]
    trips = report["trade_list"]  # type: ignore[index]
    monkeypatch.setenv("COLUMNS", "80")  # an 80-column terminal, or a pipe told its width
    text = backtest(*RUN).stdout

    _fits_80_columns(text)
    lines = text.splitlines()
    for trip in trips[-20:]:
        entry, net = amount(Decimal(trip["entry_price"])), signed_amount(Decimal(trip["net_pnl"]))
        assert any(entry in line and line.rstrip().endswith(net) for line in lines), (trip, text)
    assert "(IST)" in text  # the trips' and the drawdown's times say their zone
    for row in report["per_instrument"]:  # type: ignore[index]
        realized = signed_amount(Decimal(row["realized_pnl"]))  # signed, as P&L beside it
        assert any(row["symbol"] in line and f" {realized} " in line for line in lines), text


def test_the_curve_starts_at_the_first_tick_and_open_trips_add_up_to_the_net_pnl(
    tmp_path: Path,
) -> None:
    """A run that ends holding: the drawdown is measured from the starting cash at the
    first tick (09:20:00 IST here, after a malformed first row), not the session's 09:00,
    and the trade list, its open trip marked at the last price, sums to the run's net P&L."""
    from datetime import datetime

    from rich.console import Console

    from alphapanda_tui.backtest_html import report_page
    from alphapanda_tui.backtest_text import trades_table
    from engine.backtest import TickFile, run_backtest
    from engine.backtest_report.report import build_report
    from engine.clock import IST
    from engine.instruments import load_default_registry
    from engine.money import amount, signed_amount
    from engine.strategies.factory import build_strategy
    from tests.integration.test_backtest import ema_cross_on_ticks, write_ticks

    ticks = tmp_path / "ticks.csv"
    write_ticks(ticks, bad_line=1)
    header, malformed, *rows = ticks.read_text().splitlines()  # cut inside the second long
    kept = [header, malformed, *(r for r in rows if r[11:19] <= "09:23:10")]
    ticks.write_text("\n".join(kept) + "\n")
    registry = load_default_registry()
    result = run_backtest(
        bindings=[build_strategy(ema_cross_on_ticks(), registry)],
        registry=registry,
        source=TickFile(ticks),
        sync_every=1,
    )
    report = build_report(result).as_dict()

    first_tick = int(datetime(2024, 1, 2, 9, 20, tzinfo=IST).timestamp()) * 10**9
    assert result.equity_curve is not None
    start = result.equity_curve.points[0]
    assert (start.ts, start.equity) == (first_tick, result.equity_start)
    peak = result.equity_curve.drawdown.peak_ts
    assert peak is None or peak >= first_tick  # the drawdown's peak is the start, at the worst
    trips = report["trade_list"]
    held = trips[-1]
    assert held["open"] and held["exit"] is None and held["mark_price"]
    assert sum(Decimal(t["net_pnl"]) for t in trips) == Decimal(report["net_pnl"]) != 0

    mark, net = amount(Decimal(held["mark_price"])), signed_amount(Decimal(held["net_pnl"]))
    page = report_page(result.as_dict(), report)
    assert f"<td>OPEN, marked at</td><td>{mark}</td>" in page and f">{net}<" in page
    console = Console(width=100, record=True)
    console.print(trades_table(trips, 100))
    text = console.export_text()
    assert any("OPEN" in line and mark in line and net in line for line in text.splitlines())
    assert "OPEN: still held at the end, marked at the last price shown" in text
