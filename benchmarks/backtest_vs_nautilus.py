"""Our backtest and NautilusTrader's on the same recorded tick file, side by side (issue 17).

Writes one tick-store file (Parquet in ``TICK_SCHEMA``, as a sealed segment): 300,000
seeded ticks of RELIANCE, INFY and HDFCBANK inside one NSE session, ending before the MIS
cut-off so that no square-off or cut-off refusal separates the two engines. Then, in
interleaved rounds, each in a fresh process:

- ours, load + run: ``run_backtest`` on a ``TickStream`` that reads the file (the
  ``backtest --ticks FILE.parquet`` path: columns, the replay rules, ticks), timed from the
  call to the result, pipeline set-up and drain included;
- ours, run alone: the same ticks built beforehand, timed from the feed's start to the
  drained pipeline;
- NautilusTrader (``reference_nautilus.py`` in a throwaway venv, created and filled with
  ``pip install`` of ``NAUTILUS`` when missing): load (the file into ``QuoteTick``s) +
  engine set-up + run, and ``engine.run()`` alone.

Also: loading from the store (file → validated ``Tick``s, nothing else) in ticks/s, and
RSS over a 1,000,000-tick replay at 250k / 500k / 1M ticks. Both engines must send the
same orders (count, and the sequence of times, instruments and sides). Prints one JSON
object with medians and ratios::

    .venv/bin/python benchmarks/backtest_vs_nautilus.py [--runs 5] [--ticks 300000]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from alphapanda_tui.backtest_sources import columnar_file
from engine.backtest import BacktestStore, TickStream, run_backtest
from engine.events.payloads import Tick
from engine.instruments import load_default_registry
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from engine.memory_use import current_rss_mb
from engine.pipeline import PipelineConfig
from engine.risk import RiskLimits
from engine.strategies.config import TICKS, StrategyConfig
from engine.strategies.factory import build_strategy
from storage.ticks.schema import TICK_SCHEMA, ticks_to_batch

logging.getLogger("alphapanda").setLevel(logging.ERROR)  # rejections are logged at INFO
HERE = Path(__file__).resolve().parent
STRATEGY = "ema-cross"
INSTRUMENTS = ("NSE:RELIANCE", "NSE:INFY", "NSE:HDFCBANK")
DAY = date(2024, 1, 2)
SESSION_SHARE = 0.89  # of the 09:15-15:30 session: the last tick is near 14:50
NAUTILUS_VENV = Path("/tmp/nautilus-venv")
# 1.221.0, the release the issue measured: on this workload 1.231.0 runs about 5x slower
# (a pandas record per closed position in its analyzer, and more), which would flatter us.
NAUTILUS = ("nautilus_trader==1.221.0", "pandas<3")
BAND = Decimal(20)
RSS_MARKS = (250_000, 500_000, 1_000_000)
DEFAULT_SYNC = 1  # the CLI's --sync-every default: lockstep, every tick handled before the next
# Nautilus has no daily loss limit; ours would halt this churning strategy mid-day, and
# the two would no longer trade the same day. Every other limit stays at its default.
CONFIG = PipelineConfig(risk=RiskLimits(max_daily_loss=None))
SIZE_FACTOR = 10  # quotes at least the order's 10 shares: neither engine splits a fill


def write_recorded_file(path: Path, count: int, seed: int) -> None:
    """``count`` seeded ticks in one session, written as the recorder seals a segment."""
    rounds = count // len(INSTRUMENTS)
    config = SimulatedFeedConfig(
        seed=seed,
        instruments=INSTRUMENTS,
        ticks_per_second=None,
        max_ticks=count,
        start_date=DAY,
        clock_mode="compressed",
        rounds_per_session=int(rounds / SESSION_SHARE) + 1,
    )
    ticks = iter_ticks(load_default_registry(), config)
    with pq.ParquetWriter(path, TICK_SCHEMA, compression="zstd") as writer:
        while batch := [t for _, t in zip(range(65_536), ticks, strict=False)]:
            table = pa.Table.from_batches([ticks_to_batch(batch)])
            for name in ("bid_qty", "ask_qty"):
                deeper = pc.multiply(table.column(name), SIZE_FACTOR)
                table = table.set_column(table.schema.get_field_index(name), name, deeper)
            writer.write_table(table.cast(TICK_SCHEMA))


def _binding() -> Any:
    """EMA 12/26 on every tick, long-only, 10 shares: the strategy the reference runs
    (spelt out here, so a change to the bundled defaults cannot change the comparison)."""
    registry = load_default_registry()
    config = StrategyConfig(
        name=STRATEGY,
        kind="ema_cross",
        params={"fast": 12, "slow": 26, "quantity": 10},
        instruments=INSTRUMENTS,
        bars=TICKS,
    )
    return registry, build_strategy(config, registry)


def ours(path: Path, preloaded: bool, sync_every: int = DEFAULT_SYNC) -> dict[str, Any]:
    """One backtest of the file; with ``preloaded`` the ticks are built before the clock."""
    registry, binding = _binding()
    source = columnar_file(path, registry, BAND)
    if preloaded:
        ticks = [t for t in source.open_ticks() if isinstance(t, Tick)]
        source = TickStream(lambda: ticks, label=source.label)
    store = BacktestStore()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_backtest(
        bindings=[binding],
        registry=registry,
        source=source,
        config=CONFIG,
        store=store,
        sync_every=sync_every,
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    orders = [
        (o.created_ts, o.symbol, o.side.name)
        for o in store.orders.values()
        if o.strategy == STRATEGY
    ]
    return {
        "load_and_run_seconds": wall,
        "run_seconds": result.seconds,
        "load_and_run_cpu_seconds": cpu,
        "run_cpu_seconds": result.cpu_seconds,
        "ticks": result.ticks,
        "orders": orders,
        "fills": result.fills,
        "rejections": result.rejections,
        "dead_letters": result.dead_letters,
    }


def load_only(path: Path) -> dict[str, Any]:
    """The store's load path alone: the file to validated ticks, counted and dropped."""
    registry = load_default_registry()
    started, cpu_started = time.perf_counter(), time.process_time()
    ticks = sum(1 for _ in columnar_file(path, registry, BAND).open_ticks())
    return {
        "ticks": ticks,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
    }


def rss_over_replay(path: Path) -> dict[str, Any]:
    """RSS (MB) when 250k, 500k and 1M ticks have been published, and at the end."""
    registry, binding = _binding()
    marks: dict[str, float] = {"start": current_rss_mb()}

    def progress(published: int) -> None:
        for mark in RSS_MARKS:
            if published >= mark and str(mark) not in marks:
                marks[str(mark)] = current_rss_mb()

    source = columnar_file(path, registry, BAND)
    result = run_backtest(
        bindings=[binding], registry=registry, source=source, config=CONFIG, progress=progress
    )
    return {"ticks": result.ticks, "rss_mb": marks | {"end": current_rss_mb()}}


def in_process(python: Path, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter: no run inherits another's heap."""
    done = subprocess.run(
        [str(python), *args], capture_output=True, text=True, check=True, timeout=1800
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def nautilus_python() -> Path:
    """The throwaway venv's interpreter, with ``NAUTILUS`` installed (benchmark time only,
    never in tests)."""
    python = NAUTILUS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NAUTILUS_VENV)], check=True)
    probe = [str(python), "-c", "import nautilus_trader; print(nautilus_trader.__version__)"]
    found = subprocess.run(probe, capture_output=True, text=True, check=False).stdout.strip()
    if found != NAUTILUS[0].split("==")[1]:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *NAUTILUS], check=True)
    return python


def first_difference(a: list[Any], b: list[Any]) -> dict[str, Any] | None:
    for index, (left, right) in enumerate(zip(a, b, strict=False)):
        if list(left) != list(right):
            return {"index": index, "ours": left, "nautilus": right}
    if len(a) != len(b):
        return {"index": min(len(a), len(b)), "ours_count": len(a), "nautilus_count": len(b)}
    return None


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def compare(path: Path, runs: int) -> dict[str, Any]:
    me, nautilus = Path(sys.executable), nautilus_python()
    script, reference = str(Path(__file__).resolve()), str(HERE / "reference_nautilus.py")
    measurements: dict[str, list[dict[str, Any]]] = {
        "load": [],
        "ours_load_and_run": [],
        "ours_run": [],
        "nautilus": [],
    }
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "load": lambda: in_process(me, script, "--only", "load", "--file", str(path)),
        "ours_load_and_run": lambda: in_process(me, script, "--only", "ours", "--file", str(path)),
        "ours_run": lambda: in_process(me, script, "--only", "preloaded", "--file", str(path)),
        "nautilus": lambda: in_process(nautilus, reference, "--ticks", str(path)),
    }
    for _ in range(runs):  # interleaved: a busy moment of the box hits every side alike
        for name, step in steps.items():
            measurements[name].append(step())
    lockstep = in_process(me, script, "--only", "lockstep", "--file", str(path))
    ticks = measurements["ours_run"][0]["ticks"]

    def rate(name: str, key: str) -> int:
        return round(ticks / median(measurements[name], key))

    def ratio(ours_name: str, key: str) -> float:
        theirs = median(measurements["nautilus"], key)
        return round(theirs / median(measurements[ours_name], key), 2)

    return {
        "ticks": ticks,
        "runs": runs,
        "load_ticks_per_s": rate("load", "seconds"),
        "load_ticks_per_cpu_s": rate("load", "cpu_seconds"),
        "ours": {
            "load_and_run_ticks_per_s": rate("ours_load_and_run", "load_and_run_seconds"),
            "run_ticks_per_s": rate("ours_run", "run_seconds"),
            "load_and_run_ticks_per_cpu_s": rate("ours_load_and_run", "load_and_run_cpu_seconds"),
            "run_ticks_per_cpu_s": rate("ours_run", "run_cpu_seconds"),
            "fills": measurements["ours_run"][0]["fills"],
            "rejections": measurements["ours_run"][0]["rejections"],
        },
        "nautilus": {
            "version": measurements["nautilus"][0]["version"],
            "load_and_run_ticks_per_s": rate("nautilus", "load_and_run_seconds"),
            "run_ticks_per_s": rate("nautilus", "run_seconds"),
            "load_and_run_ticks_per_cpu_s": rate("nautilus", "load_and_run_cpu_seconds"),
            "run_ticks_per_cpu_s": rate("nautilus", "run_cpu_seconds"),
            "load_ticks_per_s": rate("nautilus", "load_seconds"),
            "fills": measurements["nautilus"][0]["fills"],
        },
        "ratio_load_and_run": ratio("ours_load_and_run", "load_and_run_seconds"),
        "ratio_run": ratio("ours_run", "run_seconds"),
        "ratio_load_and_run_cpu": ratio("ours_load_and_run", "load_and_run_cpu_seconds"),
        "ratio_run_cpu": ratio("ours_run", "run_cpu_seconds"),
        "orders": orders_compared(
            measurements["nautilus"][0]["orders"],
            lockstep["orders"],
            measurements["ours_load_and_run"][0]["orders"],
        ),
        "seconds": {
            name: [round(r.get("load_and_run_seconds", r.get("seconds", 0.0)), 3) for r in rs]
            for name, rs in measurements.items()
        },
    }


def orders_compared(
    theirs: list[list[Any]], lockstep: list[list[Any]], timed: list[list[Any]]
) -> dict[str, Any]:
    """Orders as (signal time, instrument, side), in time order. Lockstep (every stage
    drained after each tick) is the like-for-like check: Nautilus fills at once. The
    timed runs' default lets fills trail by up to 256 ticks, so an exit signalled before
    its entry filled is refused by risk (long-only), which changes what follows."""
    theirs, lockstep, timed = (sorted(map(tuple, o)) for o in (theirs, lockstep, timed))
    return {
        "nautilus": len(theirs),
        "ours_lockstep": len(lockstep),
        "ours_timed": len(timed),
        "lockstep_same_as_nautilus": lockstep == theirs,
        "first_lockstep_difference": first_difference(lockstep, theirs),
        "timed_not_in_nautilus": len(set(timed) - set(theirs)),
        "nautilus_not_in_timed": len(set(theirs) - set(timed)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ticks", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rss-ticks", type=int, default=1_000_000, help="0: skip the RSS run")
    parser.add_argument("--only", choices=("load", "ours", "preloaded", "lockstep", "rss"))
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.only:  # one measurement, in the fresh process ``in_process`` started
        only = {
            "load": lambda: load_only(args.file),
            "ours": lambda: ours(args.file, preloaded=False),
            "preloaded": lambda: ours(args.file, preloaded=True),
            "lockstep": lambda: ours(args.file, preloaded=True, sync_every=1),
            "rss": lambda: rss_over_replay(args.file),
        }[args.only]
        print(json.dumps(only()))
        return
    with tempfile.TemporaryDirectory(prefix="alphapanda-vs-nautilus-") as scratch:
        path = Path(scratch) / "recorded.parquet"
        write_recorded_file(path, args.ticks, args.seed)
        result = compare(path, args.runs)
        if args.rss_ticks:
            long_file = Path(scratch) / "long.parquet"
            write_recorded_file(long_file, args.rss_ticks, args.seed)
            script = str(Path(__file__).resolve())
            result["rss_replay"] = in_process(
                Path(sys.executable), script, "--only", "rss", "--file", str(long_file)
            )
    result |= {"python": platform.python_version(), "machine": platform.machine()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
