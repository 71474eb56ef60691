"""Memory of a long recorded replay: RSS against the file's length (issue 17).

Writes sealed tick-store files (Parquet, as ``backtest_vs_nautilus.py`` writes them) of
250k, 500k, 1M and 2M ticks, and replays each through ``run_backtest`` with ema-cross
on every tick, each run in a fresh process:

- ``streamed``: the ``backtest --ticks FILE.parquet`` path, which decodes and checks the
  file a chunk of rows at a time;
- ``whole``: the file decoded and checked whole before the first tick (the load path
  before chunking), for comparison.

Per run: RSS (MB) at the start, after 100k ticks published, at the end, and the peak.
The replay's own results (the in-memory store keeps every order and fill) grow with the
day whatever the source does, so the load path is also measured alone (``load-streamed``,
``load-whole``: the file to checked ticks, counted and dropped): its peak RSS, and its
ticks per CPU second. Runs are interleaved (every length and mode once per round) and
reported as medians::

    .venv/bin/python benchmarks/replay_rss.py [--runs 3] [--lengths 250000,500000,...]

Measured 2026-12-07 (3 rounds, loaded 2-core box; ``benchmarks/README.md`` has the table):
loading alone peaks at 205 / 209 / 217 / 239 MB chunked against 221 / 285 / 411 / 666
whole for 250k / 500k / 1M / 2M ticks, at ~0.9M ticks per CPU second against ~0.7M; a
replay's peak still grows (267 -> 451 MB chunked, 281 -> 663 whole) by the orders and
fills its in-memory store keeps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa

from alphapanda_tui.backtest_sources import columnar_file
from benchmarks.backtest_vs_nautilus import (
    BAND,
    CONFIG,
    _binding,
    in_process,
    write_recorded_file,
)
from engine.backtest import TickStream, run_backtest
from engine.instruments import load_default_registry
from engine.instruments.registry import InstrumentRegistry
from engine.market.feeds.column_checks import validated_ticks
from engine.market.feeds.stream import TickItems
from engine.memory_use import current_rss_mb, peak_rss_mb
from storage.ticks.columns import table_columns
from storage.ticks.reader import read_segment

LENGTHS = (250_000, 500_000, 1_000_000, 2_000_000)
EARLY_MARK = 100_000  # ticks published: the whole load is resident by then, chunks are not
MODES = ("streamed", "whole", "load-streamed", "load-whole")


def whole_file(path: Path, registry: InstrumentRegistry, band: Decimal) -> TickStream:
    """The file decoded and checked whole before the first tick is published."""

    def open_ticks() -> TickItems:
        columns = table_columns(read_segment(path))
        pa.default_memory_pool().release_unused()
        return validated_ticks(columns, registry, price_band_pct=band)

    return TickStream(open_ticks, label=f"whole:{path}")


def load_only(path: Path, mode: str) -> dict[str, Any]:
    """``path`` to checked ticks, counted and dropped: the load path's memory and speed."""
    registry = load_default_registry()
    start = current_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    source = _source(mode.removeprefix("load-"))(path, registry, BAND)
    ticks = sum(1 for _ in source.open_ticks())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "ticks": ticks,
        "start": start,
        "end": current_rss_mb(),
        "peak": peak_rss_mb(),
        "ticks_per_cpu_s": round(ticks / cpu),
        "ticks_per_s": round(ticks / wall),
    }


def _source(mode: str) -> Callable[[Path, InstrumentRegistry, Decimal], TickStream]:
    return columnar_file if mode == "streamed" else whole_file


def replay(path: Path, mode: str) -> dict[str, Any]:
    """One replay of ``path`` in this process, with its RSS figures."""
    if mode.startswith("load-"):
        return load_only(path, mode)
    registry, binding = _binding()
    marks: dict[str, float] = {"start": current_rss_mb()}

    def progress(published: int) -> None:
        if published >= EARLY_MARK and "early" not in marks:
            marks["early"] = current_rss_mb()

    source = _source(mode)(path, registry, BAND)
    result = run_backtest(
        bindings=[binding], registry=registry, source=source, config=CONFIG, progress=progress
    )
    return {"ticks": result.ticks, **marks, "end": current_rss_mb(), "peak": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--only", choices=MODES)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.only:  # one replay, in the fresh process ``in_process`` started
        print(json.dumps(replay(args.file, args.only)))
        return
    lengths = [int(n) for n in args.lengths.split(",")]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="alphapanda-replay-rss-") as scratch:
        files = {n: Path(scratch) / f"{n}.parquet" for n in lengths}
        for count, path in files.items():
            write_recorded_file(path, count, args.seed)
        script = str(Path(__file__).resolve())
        for _ in range(args.runs):
            for count, path in files.items():
                for mode in MODES:
                    run = in_process(
                        Path(sys.executable), script, "--only", mode, "--file", str(path)
                    )
                    runs.setdefault((mode, count), []).append(run)
    medians: dict[str, dict[str, Any]] = {mode: {} for mode in MODES}
    for (mode, count), figures in runs.items():
        medians[mode][str(count)] = {
            key: statistics.median(f[key] for f in figures) for key in figures[0]
        }
    print(json.dumps({"benchmark": "replay_rss", "runs": args.runs, "unit": "MB"} | medians))


if __name__ == "__main__":
    main()
