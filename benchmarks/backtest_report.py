"""What the backtest report costs, and what a sweep gains from processes; one JSON line.

1. Sampling: the equity curve is offered the book's equity each time the pipeline
   drains. Interleaved runs with the sampler on and with ``_sample_equity`` stubbed out
   (the run as it was before the report) give the throughput ratio, medians of each.
2. Building: the report of a run (round trips, per instrument, figures, JSON), the
   terminal rendering and the HTML page, timed against the run itself.
3. Memory: the kept curve of a long run stays within ``DEFAULT_MAX_POINTS`` + 1 points.
4. Sweeps: the same grid run serially in this process and through the spawn pool.
Run: ``python benchmarks/backtest_report.py [--ticks N] [--runs N]``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console

import engine.backtest as backtest_module
from alphapanda_tui.backtest_html import report_page
from alphapanda_tui.backtest_sweep import SweepJob, combinations, parse_grid, run_one, run_sweep
from alphapanda_tui.backtest_text import report_renderables
from alphapanda_tui.settings import load_settings
from engine.backtest import BacktestResult, SyntheticTicks, run_backtest
from engine.backtest_report.equity import DEFAULT_MAX_POINTS
from engine.backtest_report.report import build_report
from engine.instruments import load_default_registry
from engine.strategies.config import load_strategies
from engine.strategies.factory import build_strategy

logging.getLogger("alphapanda").setLevel(logging.ERROR)
STRATEGY = "ema-cross"
GRID = ["fast=8,12", "slow=26,50"]


def one_run(ticks: int, *, sampled: bool = True) -> BacktestResult:
    registry = load_default_registry()
    config = next(c for c in load_strategies() if c.name == STRATEGY)
    real = backtest_module._sample_equity
    if not sampled:
        backtest_module._sample_equity = lambda book, sampler: None  # type: ignore[assignment]
    try:
        return run_backtest(
            bindings=[build_strategy(config, registry)],
            registry=registry,
            source=SyntheticTicks(ticks, seed=7),
        )
    finally:
        backtest_module._sample_equity = real


def sampling_cost(ticks: int, runs: int) -> dict[str, Any]:
    one_run(ticks // 10)  # warm-up: imports and first-call costs stay out of both
    on, off = [], []
    for n in range(runs):  # interleaved, alternating who goes first: load hits both alike
        for sampled in (n % 2 == 0, n % 2 != 0):
            result = one_run(ticks, sampled=sampled)
            # Ticks per CPU second: on a shared box the wall clock measures the neighbours.
            (on if sampled else off).append(result.ticks / result.cpu_seconds)
    return {
        "ticks": ticks,
        "ticks_per_cpu_s_without_sampling": round(statistics.median(off)),
        "ticks_per_cpu_s_with_sampling": round(statistics.median(on)),
        "ratio_with_over_without": round(statistics.median(on) / statistics.median(off), 3),
    }


def building_cost(ticks: int) -> dict[str, Any]:
    result = one_run(ticks)
    started = time.perf_counter()
    report = build_report(result).as_dict()
    built = time.perf_counter()
    summary = result.as_dict()
    Console(file=io.StringIO(), width=110).print(report_renderables(summary, report, 100))
    printed = time.perf_counter()
    page = report_page(summary, report)
    paged = time.perf_counter()
    assert result.equity_curve is not None
    return {
        "ticks": ticks,
        "run_s": round(result.seconds, 3),
        "report_s": round(built - started, 3),
        "terminal_s": round(printed - built, 3),
        "html_s": round(paged - printed, 3),
        "html_kb": round(len(page.encode()) / 1024),
        "trips": len(result.trades),
        "curve_points_kept": len(result.equity_curve.points),
        "curve_points_bound": DEFAULT_MAX_POINTS + 1,
    }


def sweep_speedup(ticks: int) -> dict[str, Any]:
    settings = load_settings(_env_file=None)
    base = next(c for c in load_strategies() if c.name == STRATEGY)
    valid, _refused = combinations(base, parse_grid(GRID))
    jobs = [SweepJob(p, c, SyntheticTicks(ticks, seed=7), settings, 256) for p, c in valid]
    started = time.perf_counter()
    serial = [run_one(job) for job in jobs]
    middle = time.perf_counter()
    pooled = run_sweep(jobs, workers=os.cpu_count() or 1)
    ended = time.perf_counter()
    return {
        "grid": GRID,
        "ticks_per_run": ticks,
        "cores": os.cpu_count(),
        "serial_s": round(middle - started, 2),
        "pool_s": round(ended - middle, 2),
        "speedup": round((middle - started) / (ended - middle), 2),
        "load_average_1m": round(os.getloadavg()[0], 1),  # a pool gains only on free cores
        "same_results": [o["net_pnl"] for o in serial] == [o["net_pnl"] for o in pooled],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--long-ticks", type=int, default=1_000_000)
    parser.add_argument("--sweep-ticks", type=int, default=50_000)
    args = parser.parse_args()
    print(
        json.dumps(
            {
                "benchmark": "backtest_report",
                "sampling": sampling_cost(args.ticks, args.runs),
                "building": building_cost(args.ticks),
                "long_run": building_cost(args.long_ticks) if args.long_ticks else None,
                "sweep": sweep_speedup(args.sweep_ticks),
            }
        )
    )


if __name__ == "__main__":
    main()
