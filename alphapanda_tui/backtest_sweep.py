"""``alphapanda backtest --grid fast=8,12,20 slow=26,50``: a parameter sweep.

Every combination of the values is one backtest of the named strategy with those
parameters, run in its own process (a spawn pool, one worker per core: each run is a
whole pipeline, bound by one core). Combinations the strategy's own validation refuses
(fast >= slow) are named on stderr and skipped. Results are ranked by ``--rank-by``
(ties kept in grid order), never by which process finished first, so the same grid
prints the same table every time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from multiprocessing import get_context
from typing import Any

from pydantic import ValidationError

from alphapanda_tui.errors import UsageError

RANKS = ("net_pnl", "sharpe", "sortino", "profit_factor", "win_rate", "max_drawdown")
OUTCOME = ("source", "ticks", "signals", "orders", "fills", "rejections", "realized_pnl", "charges")


def configure_sweep(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grid",
        nargs="+",
        metavar="NAME=V1,V2",
        help="sweep strategy parameters: every combination runs, across all cores",
    )
    parser.add_argument(
        "--rank-by",
        choices=RANKS,
        default="net_pnl",
        help="order of the sweep's table, best first (default net_pnl)",
    )


def parse_grid(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``["fast=8,12", "slow=26"]`` -> ``{"fast": [8, 12], "slow": [26]}`` (ints stay ints)."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        texts = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name or not texts:
            raise UsageError(f"--grid takes NAME=V1,V2,..., got {spec!r}")
        if name in grid:
            raise UsageError(f"--grid names {name!r} twice")
        grid[name] = [int(t) if t.lstrip("-").isdigit() else t for t in texts]
    return grid


@dataclass(frozen=True, slots=True)
class SweepJob:
    """One combination, as the worker process needs it (picklable)."""

    params: dict[str, Any]
    config: Any  # the StrategyConfig with ``params`` applied, validated
    source: Any  # a TickSource, or a recipe (settings, registry) -> TickSource
    settings: Any
    sync_every: int | None
    capital: Decimal | None = None  # the report's capital base (None: the starting cash)


def combinations(base: Any, grid: dict[str, list[Any]]) -> tuple[list[Any], list[str]]:
    """The valid strategy configs in grid order, and a line for each refused combination."""
    from engine.strategies.config import StrategyConfig

    unknown = sorted(set(grid) - set(base.params))
    if unknown:
        known = ", ".join(sorted(base.params))
        raise UsageError(f"{base.name} has no parameter {', '.join(unknown)} (it has: {known})")
    valid, refused = [], []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        data = base.model_dump() | {"params": base.params | params}
        try:
            valid.append((params, StrategyConfig.model_validate(data)))
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            refused.append(f"skipped {_label(params)}: {reason}")
    return valid, refused


def run_one(job: SweepJob) -> dict[str, Any]:
    """One backtest of the sweep, in a worker: the summary and report figures as JSON."""
    from alphapanda_tui.engine_config import pipeline_config
    from alphapanda_tui.runtime import build_registry
    from engine.backtest import run_backtest
    from engine.backtest_report.report import build_report
    from engine.strategies.factory import build_strategy

    registry = build_registry(job.settings)
    source = job.source(job.settings, registry) if callable(job.source) else job.source
    result = run_backtest(
        bindings=[build_strategy(job.config, registry)],
        registry=registry,
        source=source,
        config=pipeline_config(job.settings),
        sync_every=job.sync_every,
    )
    report = build_report(result, job.capital).as_dict()
    figures = {k: v for k, v in report.items() if k not in {"trade_list", "equity_curve"}}
    return {"params": job.params} | {k: result.as_dict()[k] for k in OUTCOME} | figures


def run_sweep(jobs: list[SweepJob], workers: int, progress: Any = None) -> list[dict[str, Any]]:
    """Every job's outcome, in the jobs' order whatever order the processes finish in."""
    outcomes: list[dict[str, Any] | None] = [None] * len(jobs)
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_quiet_logging
    ) as pool:
        futures = {pool.submit(run_one, job): index for index, job in enumerate(jobs)}
        for done, future in enumerate(as_completed(futures), start=1):
            outcomes[futures[future]] = future.result()
            if progress is not None:
                progress(done)
    return [o for o in outcomes if o is not None]


def _quiet_logging() -> None:
    """A worker logs nowhere, as a single run without --log-dir: with no handler at all,
    logging's last resort would print each warning's bare message on the terminal."""
    import logging

    logging.getLogger().addHandler(logging.NullHandler())


def ranked(outcomes: list[dict[str, Any]], rank_by: str) -> list[dict[str, Any]]:
    """Best first by ``rank_by`` (a figure a run lacks ranks last); ties in grid order."""

    def key(item: tuple[int, dict[str, Any]]) -> tuple[bool, Decimal, int]:
        index, outcome = item
        value = outcome[rank_by]
        return (value is None, -Decimal(value) if value is not None else Decimal(0), index)

    return [o for _i, o in sorted(enumerate(outcomes), key=key)]


def sweep(args: argparse.Namespace, settings: Any, base: Any, source: Any) -> int:
    """Run ``args.grid`` over ``base`` (a StrategyConfig) and print the ranked table."""
    if args.report is not None:
        raise UsageError("--report writes the page of one run; a sweep prints its table")
    valid, refused = combinations(base, parse_grid(args.grid))
    for line in refused:
        print(line, file=sys.stderr)
    if not valid:
        raise UsageError("no combination of --grid is valid for this strategy")
    from alphapanda_tui.backtest_sources import source_of_args
    from engine.backtest import TickStream

    if isinstance(source, TickStream):  # loaded by a closure: each worker builds its own
        source = partial(source_of_args, args=args)
    jobs = [SweepJob(p, c, source, settings, args.sync_every, args.capital) for p, c in valid]
    workers = min(len(jobs), os.cpu_count() or 1)
    with _sweep_progress(len(jobs), enabled=not args.no_progress) as progress:
        outcomes = ranked(run_sweep(jobs, workers, progress), args.rank_by)
    if args.json:
        print(json.dumps({"rank_by": args.rank_by, "runs": outcomes}))
    else:
        title = f"Sweep of {base.name} on {outcomes[0]['source']}, ranked by {args.rank_by}"
        _print_table(outcomes, title)
    return 0


def _label(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def _print_table(outcomes: list[dict[str, Any]], title: str) -> None:
    from alphapanda_tui.backtest_text import fitted_table, report_console

    console = report_console()
    build = partial(_sweep_table, outcomes, title)
    console.print(fitted_table(build, SWEEP_OPTIONAL, console.width))


SWEEP_OPTIONAL = ("Sortino", "charges", "PF", "trips")  # left out in this order when narrow


def _sweep_table(outcomes: list[dict[str, Any]], title: str, left_out: frozenset[str]) -> Any:
    from rich.text import Text

    from alphapanda_tui.backtest_text import drawdown, percent, pnl, ratio, report_table
    from engine.money import amount

    columns = ("#", "parameters", "net P&L", "trips", "win rate", "PF", "max DD", "Sharpe")
    shown = [c for c in (*columns, "Sortino", "charges") if c not in left_out]
    table = report_table(title, *shown)
    for rank, o in enumerate(outcomes, start=1):
        cells: dict[str, str | Text] = {
            "#": str(rank),
            "parameters": _label(o["params"]),
            "net P&L": pnl(o["net_pnl"]),
            "trips": str(o["trips"]),
            "win rate": percent(o["win_rate"]),
            "PF": ratio(o["profit_factor"]),
            "max DD": drawdown(o["max_drawdown"]),
            "Sharpe": ratio(o["sharpe"]),
            "Sortino": ratio(o["sortino"]),
            "charges": amount(Decimal(o["charges"])),
        }
        table.add_row(*(cells[c] for c in shown))
    return table


class _sweep_progress:
    """Runs done of the sweep, on stderr, when stderr is a terminal."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total, self.show = total, enabled and sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._bar.start()
        task = self._bar.add_task("sweep", total=self.total)
        return lambda done: self._bar.update(task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
