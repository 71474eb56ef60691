"""The backtests screen (B): the saved runs listed newest first, the selected one's equity
curve and figures; Pilot presses the real keys, and a snapshot with fixed runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from alphapanda_tui.app import make_app
from screens.backtests import COLUMNS, BacktestsScreen
from storage.backtest_archive import BacktestArchive
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import BusHarness, seed
from tests.tui.test_no_color import screen_text
from widgets.equity_chart import EquityChart

MINUTE = 60 * 10**9
OPEN_NS = 1_704_079_800_000_000_000  # 2024-01-01 09:00 IST


def _report(net: str, curve: list[str], sharpe: str | None) -> dict[str, object]:
    """A saved report as ``backtest`` writes it (only what the screen reads is varied)."""
    return {
        "capital": "1000000",
        "net_pnl": net,
        "return_pct": "0.0000",
        "trips": 12,
        "win_rate": "0.2500",
        "profit_factor": "0.5000",
        "max_drawdown": "-900.00",
        "sharpe": sharpe,
        "sortino": None,
        "equity_curve": [[OPEN_NS + i * MINUTE, value] for i, value in enumerate(curve)],
    }


def _summary(strategy: str, ticks: int) -> dict[str, object]:
    return {
        "strategy": strategy,
        "source": f"synthetic:{ticks}",
        "ticks": ticks,
        "charges": "310.25",
    }


def archive_with_two_runs(directory: Path) -> BacktestArchive:
    archive = BacktestArchive(directory, keep=5)
    rising = ["1000000", "1000400", "999800", "1001200", "1002500", "1001900", "1003100"]
    falling = ["1000000", "999100", "999500", "998000", "997200", "997900", "996400"]
    archive.save(
        _summary("ema-cross", 20_000),
        _report("3100.00", rising, "1.25"),
        datetime(2026, 12, 7, 5, 16, tzinfo=UTC),
    )
    archive.save(
        _summary("momentum", 50_000),
        _report("-3600.00", falling, None),
        datetime(2026, 12, 7, 5, 30, tzinfo=UTC),
    )
    return archive


async def test_shift_b_lists_the_saved_runs_and_the_cursor_picks_the_curve(
    console: Console, tmp_path: Path
) -> None:
    console.app.backtest_archive = archive_with_two_runs(tmp_path / "backtests")

    await console.pilot.press("B")
    screen = console.app.screen
    assert isinstance(screen, BacktestsScreen)
    table = screen.query_one("#backtests-table", DataTable)
    figures = screen.query_one("#backtests-figures", Static)
    chart = screen.query_one("#backtests-chart", EquityChart)
    await eventually(lambda: table.row_count == 2)

    assert [table.get_row_at(i)[1] for i in range(2)] == ["momentum", "ema-cross"]  # newest first
    await eventually(lambda: "momentum on synthetic:50000 · net -3,600.00" in str(figures.render()))
    assert "P&L since the start" in str(chart.render())

    await console.pilot.press("down")
    await eventually(
        lambda: "ema-cross on synthetic:20000 · net +3,100.00" in str(figures.render())
    )
    await console.pilot.press("escape")
    assert console.app.screen is console.app.dashboard


async def test_a_terminal_narrowed_to_80_columns_keeps_every_figure_in_view(
    console: Console, tmp_path: Path
) -> None:
    """Opened at 120 columns and then narrowed (a tmux pane, an SSH window): the table
    drops its source column then, as it would had it opened narrow, so net P&L, win
    rate, drawdown and Sharpe stay on screen; widened again, the source comes back."""
    console.app.backtest_archive = archive_with_two_runs(tmp_path / "backtests")
    await console.pilot.press("B")
    table = console.app.screen.query_one("#backtests-table", DataTable)
    await eventually(lambda: table.row_count == 2)
    labels = lambda: [str(c.label) for c in table.ordered_columns]  # noqa: E731

    await console.pilot.resize_terminal(80, 24)
    await eventually(lambda: "source" not in labels())
    assert table.virtual_size.width <= table.size.width  # no horizontal scrolling
    assert labels()[-1] == "Sharpe" and table.row_count == 2

    await console.pilot.pause()
    shown = screen_text(console.app)
    for figure in ("net -3,600.00", "PF 0.50", "Sortino —", "charges 310.25"):
        assert figure in shown, shown  # the figures line wraps rather than ending in …

    await console.pilot.resize_terminal(120, 40)
    await eventually(lambda: "source" in labels())
    assert table.get_row_at(0)[-1] == "synthetic:50000"


async def test_a_long_source_never_pushes_the_figures_off_screen(
    console: Console, tmp_path: Path
) -> None:
    """A candle run's source names every instrument and both dates; at 120 columns it
    used to push win rate, drawdown and Sharpe past the right edge."""
    archive = archive_with_two_runs(tmp_path / "backtests")
    source = "candles:5minute:NSE:INFY,NSE:RELIANCE,NSE:HDFCBANK:2024-01-01..2024-03-31"
    archive.save(
        _summary("ema-cross", 4_800) | {"source": source},
        _report("8943.75", ["1000000", "1008943.75"], "2.88"),
        datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
    )
    console.app.backtest_archive = archive
    await console.pilot.press("B")
    table = console.app.screen.query_one("#backtests-table", DataTable)
    await eventually(lambda: table.row_count == 3)
    await console.pilot.pause()

    header = next(line for line in screen_text(console.app).splitlines() if "ran (IST)" in line)
    for column in ("net P&L", "win", "max DD", "Sharpe"):
        assert column in header, header
    figures = str(console.app.screen.query_one("#backtests-figures", Static).render())
    assert source in figures.replace("\n", "")  # the whole source, above the chart


async def test_a_run_that_never_fell_shows_no_drawdown_as_a_gain(
    console: Console, tmp_path: Path
) -> None:
    archive = BacktestArchive(tmp_path / "backtests", keep=5)
    flat = _report("0.00", ["1000000", "1000000"], None) | {"max_drawdown": "0.00"}
    archive.save(_summary("rsi", 20), flat, datetime(2026, 12, 7, 6, 0, tzinfo=UTC))
    console.app.backtest_archive = archive
    await console.pilot.press("B")
    table = console.app.screen.query_one("#backtests-table", DataTable)
    await eventually(lambda: table.row_count == 1)

    drawn = table.get_row_at(0)[COLUMNS.index("max DD")]
    assert str(drawn) == "0.00"


async def test_a_run_is_listed_at_its_time_in_ist(console: Console, tmp_path: Path) -> None:
    console.app.backtest_archive = archive_with_two_runs(tmp_path / "backtests")
    await console.pilot.press("B")
    table = console.app.screen.query_one("#backtests-table", DataTable)
    await eventually(lambda: table.row_count == 2)

    assert str(table.ordered_columns[0].label) == "ran (IST)"
    assert table.get_row_at(0)[0] == "2026-12-07 11:00"  # saved 05:30 UTC


async def test_without_saved_runs_the_screen_says_how_to_make_one(console: Console) -> None:
    await console.pilot.press("B")

    screen = console.app.screen
    assert isinstance(screen, BacktestsScreen)
    title = str(screen.query_one("#backtests-title", Static).render())
    assert "No backtests saved yet" in title


def _open_backtests(harness: BusHarness, directory: Path) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await eventually(lambda: harness.started, message="engine not started")
        await seed(harness)
        pilot.app.backtest_archive = archive_with_two_runs(directory)  # type: ignore[attr-defined]
        await pilot.press("B")
        await eventually(lambda: isinstance(pilot.app.screen, BacktestsScreen))
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_backtests_screen(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    harness = BusHarness("paper")
    app = make_app(harness, operator="trader@desk")
    assert snap_compare(
        app, terminal_size=size, run_before=_open_backtests(harness, tmp_path / "backtests")
    )


def test_the_chart_reads_in_rupees_against_the_time_of_day_in_ist() -> None:
    """A loss of a few thousand rupees is labelled -3,600, not -3.6e3, and the x axis is
    the run's IST clock, not the samples' order (0.0 ... 63.0 says nothing to a trader)."""
    from decimal import Decimal

    from widgets.equity_chart import plot_equity

    falling = ["1000000", "999100", "999500", "998000", "997200", "997900", "996400"]
    curve = [(OPEN_NS + i * 30 * MINUTE, Decimal(v)) for i, v in enumerate(falling)]
    chart = plot_equity(curve, 80, 14)

    assert "e3" not in chart and "e2" not in chart
    assert "-3,600┤" in chart and any(line.strip().startswith("0┤") for line in chart.splitlines())
    axis = chart.splitlines()[-1]
    assert "09:00" in axis and "12:00" in axis and "(IST)" in chart
