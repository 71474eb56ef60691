"""Bars: the aggregator's throughput, and ema-cross on ticks against ema-cross on 5-minute
bars through the same pipeline and the same seeded market. Prints one JSON object.

``--by-interval`` also runs every bundled strategy on ticks and on each of
``INTERVALS_TRIED`` once (the outcomes are deterministic): the evidence behind the
bundled defaults' ``bars:`` (README, "Bars").

Runs are interleaved (tick, bar, tick, bar, ...) and reported as medians, since the
machine is shared. The outcome figures (signals, orders, charges, P&L) are deterministic:
they show what bars do to churn, the speed figures what they cost.
Run: ``python benchmarks/bars.py [--ticks N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backtest import BacktestResult, SyntheticTicks, run_backtest
from engine.instruments import load_default_registry
from engine.market.bars import BarAggregator
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from engine.strategies.config import load_strategies
from engine.strategies.factory import build_strategy

REGISTRY = load_default_registry()
logging.getLogger("alphapanda").setLevel(logging.ERROR)  # square-offs are logged at INFO


def aggregator_ticks_per_s(count: int, runs: int) -> float:
    """Median ticks/s of one 5-minute BarAggregator over ``count`` simulated ticks."""
    config = SimulatedFeedConfig(instruments=("NSE:RELIANCE", "NSE:INFY", "NSE:HDFCBANK"))
    ticks = list(
        iter_ticks(REGISTRY, SimulatedFeedConfig(**{**_fields(config), "max_ticks": count}))
    )
    rates = []
    for _ in range(runs):
        aggregator = BarAggregator("5minute")
        started = time.perf_counter()
        for tick in ticks:
            aggregator.on_tick(tick)
        rates.append(len(ticks) / (time.perf_counter() - started))
    return statistics.median(rates)


def _fields(config: SimulatedFeedConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


INTERVALS_TRIED = ("tick", "minute", "3minute", "5minute", "15minute")


def backtest(bars: str, ticks: int, name: str = "ema-cross") -> BacktestResult:
    config = next(c for c in load_strategies() if c.name == name)
    binding = build_strategy(config.model_copy(update={"bars": bars}), REGISTRY)
    return run_backtest(bindings=[binding], registry=REGISTRY, source=SyntheticTicks(ticks))


def by_interval(ticks: int) -> dict[str, dict[str, Any]]:
    """Every bundled strategy's outcome on ticks and on each interval tried."""
    return {
        config.name: {bars: _money(backtest(bars, ticks, config.name)) for bars in INTERVALS_TRIED}
        for config in load_strategies()
    }


def outcome(result: BacktestResult, rates: list[float]) -> dict[str, Any]:
    return {"ticks_per_s_median": round(statistics.median(rates)), **_money(result)}


def _money(result: BacktestResult) -> dict[str, Any]:
    return {
        "signals": result.signals,
        "orders": result.orders,
        "charges": str(result.charges),
        "realized_pnl": str(result.realized_pnl),
        "net_after_charges": str(result.realized_pnl + result.unrealized_pnl - result.charges),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--by-interval", action="store_true", help="every bundled strategy")
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"tick": [], "5minute": []}
    results: dict[str, BacktestResult] = {}
    for _ in range(args.runs):
        for bars in rates:
            result = backtest(bars, args.ticks)
            rates[bars].append(result.ticks / result.seconds)
            results[bars] = result
    report = {
        "benchmark": "bars",
        "ticks": args.ticks,
        "runs": args.runs,
        "aggregator_5minute_ticks_per_s": round(aggregator_ticks_per_s(args.ticks, args.runs)),
        "ema_cross_on_ticks": outcome(results["tick"], rates["tick"]),
        "ema_cross_on_5minute_bars": outcome(results["5minute"], rates["5minute"]),
        "speed_ratio_bars_over_ticks": round(
            statistics.median(rates["5minute"]) / statistics.median(rates["tick"]), 3
        ),
    }
    if args.by_interval:
        report["by_interval"] = by_interval(args.ticks)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
