"""``backtest --grid``: a sweep across processes equals the single runs, in a fixed order."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from alphapanda_tui.backtest_sources import recorded_source
from alphapanda_tui.backtest_sweep import SweepJob, combinations, parse_grid, ranked, run_sweep
from alphapanda_tui.engine_config import pipeline_config
from alphapanda_tui.settings import load_settings
from alphapanda_tui.tick_store import ticks_root
from engine.backtest import SyntheticTicks, run_backtest
from engine.backtest_report.report import build_report
from engine.instruments import load_default_registry
from engine.strategies.config import load_strategies
from engine.strategies.factory import build_strategy
from tests.integration.test_backtest import backtest
from tests.integration.test_backtest_recorded import DAY, day_ticks, record
from tests.integration.test_backtest_report import tick_ema_cross  # noqa: F401  (autouse)

SOURCE = SyntheticTicks(4_000, seed=5)
GRID = ("--strategy", "ema-cross", "--synthetic", "4000", "--seed", "5", "--grid")


def test_a_sweep_across_processes_equals_the_single_runs_of_the_same_parameters() -> None:
    settings = load_settings(_env_file=None)
    base = next(c for c in load_strategies(settings.strategies_file) if c.name == "ema-cross")
    valid, refused = combinations(base, parse_grid(["fast=5,9", "slow=20"]))
    jobs = [SweepJob(params, config, SOURCE, settings, 1) for params, config in valid]

    swept = run_sweep(jobs, workers=2)

    assert refused == [] and [o["params"] for o in swept] == [
        {"fast": 5, "slow": 20},
        {"fast": 9, "slow": 20},
    ]
    registry = load_default_registry()
    for outcome, (_params, config) in zip(swept, valid, strict=True):
        single = run_backtest(  # as ``alphapanda backtest`` runs one: the settings' config
            bindings=[build_strategy(config, registry)],
            registry=registry,
            source=SOURCE,
            config=pipeline_config(settings),
        )
        report = build_report(single)
        assert outcome["fills"] == single.fills > 0
        assert Decimal(outcome["realized_pnl"]) == single.realized_pnl
        assert Decimal(outcome["charges"]) == single.charges
        assert Decimal(outcome["net_pnl"]) == report.net_pnl
        assert outcome["trips"] == report.trades.trips
    assert swept[0]["net_pnl"] != swept[1]["net_pnl"]  # the parameters reached the strategy


def test_ranking_is_best_first_with_ties_and_missing_figures_in_grid_order() -> None:
    sharpes = [None, "1.5", "-2", "1.5"]
    runs = [{"run": n, "sharpe": sharpe} for n, sharpe in enumerate(sharpes)]

    assert [r["run"] for r in ranked(runs, "sharpe")] == [1, 3, 2, 0]


def test_the_cli_sweep_is_deterministic_and_skips_what_the_strategy_refuses() -> None:
    args = ("fast=5,30", "slow=20,40", "--json", "--rank-by", "net_pnl", "--capital", "500000")
    first = backtest(*GRID, *args)
    second = backtest(*GRID, *args)

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "skipped fast=30 slow=20: params: fast (30) must be less than slow (20)" in first.stderr
    runs = json.loads(first.stdout)["runs"]
    assert sorted(tuple(r["params"].values()) for r in runs) == [(5, 20), (5, 40), (30, 40)]
    assert {r["capital"] for r in runs} == {"500000"}
    nets = [Decimal(r["net_pnl"]) for r in runs]
    assert nets == sorted(nets, reverse=True)

    table = backtest(*GRID, "fast=5,30", "slow=20,40")
    assert "Sweep of ema-cross on synthetic:4000, ranked by net_pnl" in table.stdout
    assert "fast=30 slow=40" in table.stdout


def test_a_grid_with_no_valid_combination_or_an_unknown_parameter_is_refused() -> None:
    none_valid = backtest(*GRID, "fast=30", "slow=20")
    unknown = backtest(*GRID, "speed=1,2")
    with_page = backtest(*GRID, "fast=5", "--report", "sweep.html")

    assert none_valid.returncode == 2 and "no combination of --grid is valid" in none_valid.stderr
    assert unknown.returncode == 2 and "ema-cross has no parameter speed" in unknown.stderr
    assert with_page.returncode == 2 and "a sweep prints its table" in with_page.stderr
    assert "Traceback" not in none_valid.stderr + unknown.stderr + with_page.stderr


def test_a_sweep_over_a_recorded_day_equals_its_single_runs() -> None:
    """A recorded day is loaded by a closure, which no spawned worker can receive: each
    worker opens the day itself from the same arguments."""
    settings = load_settings(_env_file=None)
    record(ticks_root(settings), day_ticks(3_000))

    swept = backtest(
        "--strategy", "ema-cross", "--day", DAY.isoformat(), "--json", "--no-progress",
        "--grid", "fast=5,9", "slow=20",
    )  # fmt: skip

    assert swept.returncode == 0, swept.stderr
    runs = json.loads(swept.stdout)["runs"]
    base = next(c for c in load_strategies(settings.strategies_file) if c.name == "ema-cross")
    valid, _refused = combinations(base, parse_grid(["fast=5,9", "slow=20"]))
    registry = load_default_registry()
    for params, config in valid:
        single = run_backtest(
            bindings=[build_strategy(config, registry)],
            registry=registry,
            source=recorded_source(settings, registry, ticks=None, day=DAY.isoformat()),
            config=pipeline_config(settings),
        )
        outcome = next(r for r in runs if r["params"] == params)
        assert outcome["ticks"] == single.ticks == 3_000
        assert outcome["fills"] == single.fills > 0
        assert Decimal(outcome["realized_pnl"]) == single.realized_pnl
        assert Decimal(outcome["charges"]) == single.charges


def test_at_80_columns_the_sweep_keeps_every_figure_whole_and_names_what_it_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.money import signed_amount
    from tests.integration.test_backtest_report import _fits_80_columns

    grid = ("fast=5,12", "slow=20,40")
    runs = json.loads(backtest(*GRID, *grid, "--json").stdout)["runs"]
    monkeypatch.setenv("COLUMNS", "80")
    text = backtest(*GRID, *grid).stdout

    _fits_80_columns(text)
    for run in runs:
        label = " ".join(f"{k}={v}" for k, v in run["params"].items())
        net = signed_amount(Decimal(run["net_pnl"]))
        assert any(label in line and net in line for line in text.splitlines()), text
    assert "not shown at this width: Sortino, charges" in text


def test_a_sweep_prints_no_log_records_on_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A run logs warnings (each MIS square-off); a single run discards them unless
    --log-dir, and so must each worker of a sweep, or bare messages litter the terminal."""
    monkeypatch.setenv("ALPHAPANDA_RISK__MIS_SQUARE_OFF", "NSE=10:00")
    record(ticks_root(load_settings(_env_file=None)), day_ticks(3_000))
    day = ("--strategy", "ema-cross", "--day", DAY.isoformat(), "--no-progress")

    single = backtest(*day, "--json", "--log-dir", str(tmp_path))
    swept = backtest(*day, "--grid", "fast=5,9", "slow=20")

    assert single.returncode == swept.returncode == 0, swept.stderr
    logged = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.jsonl"))
    assert "MIS square-off" in logged  # the runs do log a warning
    assert swept.stderr == ""


def test_a_drawdown_of_nothing_never_reads_as_a_gain() -> None:
    flat = backtest("--strategy", "ema-cross", "--synthetic", "20", "--grid", "fast=5,9")

    assert flat.returncode == 0, flat.stderr
    rows = [line for line in flat.stdout.splitlines() if "fast=" in line]
    assert len(rows) == 2
    assert all(row.split("│")[6].strip() == "0.00" for row in rows), flat.stdout  # max DD
