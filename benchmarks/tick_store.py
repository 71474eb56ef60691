"""The tick store: write throughput, load rate of a recorded day, and what recording costs
the live pipeline. Prints one JSON object.

- ``write``: ``TickWriter.write`` in batches (each one record batch, fsynced), then the
  seal (stream → zstd Parquet) timed on its own.
- ``load``: ``read_day`` of the sealed day (merged, sorted Arrow columns; the backtest's
  columnar path starts here) and ``iter_day_ticks`` (to ``Tick`` objects, the generic path).
- ``convert``: CPU microseconds per tick of ``ticks_to_batch`` (the writer thread's work
  besides the disk), on the simulated feed's ticks (one shared Decimal per price) and on
  copies holding a fresh Decimal per price, as the Kite feed builds them.
- ``pipeline``: ``benchmarks/pipeline.py``'s EMA-cross backtest through the live pipeline
  on a memory bus, with the tick recorder consuming ``market.ticks`` beside it (as the
  runtime wires it) or not; runs interleaved off / consume (the recorder buffers every
  tick, its writer discards them: the cost of one more consumer of the topic) / on,
  medians compared. Unpaced, so this is the worst case: a live feed delivers a few
  thousand ticks a second, not 50,000. The run's CPU window closes when the pipeline has
  drained, before the recorder's stop writes the ticks still buffered and seals the
  segment; that stop is timed on its own (``stop_cpu_us_per_tick``), and
  ``on_with_stop`` charges it to the run, so nothing recording costs goes uncounted. The
  writer thread's CPU (conversion, append, fsync) is also timed with ``thread_time``.
Run: ``python benchmarks/tick_store.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine.backtest as backtest_module
import storage.ticks.recorder as recorder_module
from benchmarks.pipeline import one_run
from engine.events.payloads import Tick
from engine.instruments import load_default_registry
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from storage.ticks.config import RecorderConfig
from storage.ticks.layout import ist_day
from storage.ticks.reader import iter_day_ticks, read_day
from storage.ticks.recorder import TickRecorder
from storage.ticks.schema import ticks_to_batch
from storage.ticks.writer import TickWriter


def simulated(count: int, seed: int) -> list[Tick]:
    """``count`` ticks of one simulated session (one day: session clock, 10 ms steps)."""
    config = SimulatedFeedConfig(seed=seed, clock_mode="session", event_step_ms=10)
    return list(islice(iter_ticks(load_default_registry(), config), count))


def write_and_load(ticks: list[Tick], batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        writer = TickWriter(root, rotate_ticks=len(ticks) + 1)
        started = time.perf_counter()
        for start in range(0, len(ticks), batch):
            writer.write(ticks[start : start + batch])
        written = time.perf_counter() - started
        started = time.perf_counter()
        writer.close()
        sealed = time.perf_counter() - started
        day = ist_day(ticks[0].exchange_ts)
        started = time.perf_counter()
        table = read_day(root, day)
        columns = time.perf_counter() - started
        started = time.perf_counter()
        loaded = sum(1 for _ in iter_day_ticks(root, day))
        objects = time.perf_counter() - started
        size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
    assert table.num_rows == loaded == len(ticks)
    return {
        "write_ticks_per_s": round(len(ticks) / written),
        "seal_s": round(sealed, 3),
        "parquet_bytes_per_tick": round(size / len(ticks), 1),
        "read_day_ticks_per_s": round(len(ticks) / columns),
        "iter_day_ticks_per_s": round(len(ticks) / objects),
    }


_PRICE_FIELDS = ("last_price", "bid", "ask", "open", "high", "low", "close")


def with_fresh_prices(tick: Tick) -> Tick:
    """The same tick holding a new Decimal per price, as the Kite feed builds them."""
    prices = {field: getattr(tick, field) for field in _PRICE_FIELDS}
    fresh = {field: None if p is None else Decimal(str(p)) for field, p in prices.items()}
    return msgspec.structs.replace(tick, **fresh)


def convert_cost(ticks: list[Tick], runs: int) -> dict[str, float]:
    """Median CPU microseconds per tick of ``ticks_to_batch``, interleaved."""
    fresh = [with_fresh_prices(tick) for tick in ticks]
    times: dict[str, list[float]] = {"shared_decimals": [], "fresh_decimals": []}
    for _ in range(runs):
        for kind, batch in (("shared_decimals", ticks), ("fresh_decimals", fresh)):
            started = time.process_time()
            ticks_to_batch(batch)
            times[kind].append(time.process_time() - started)
    return {
        f"{kind}_cpu_us_per_tick": round(statistics.median(spent) * 1e6 / len(ticks), 3)
        for kind, spent in times.items()
    }


class DiscardingWriter(TickWriter):
    """The ``consume`` mode's writer: counts what it is handed, converts and writes nothing."""

    def write(self, ticks: Sequence[Tick]) -> None:
        self.written += len(ticks)


class TimedRecorder(TickRecorder):
    """The recorder, with the CPU its writer thread spends and the CPU of its stop (the
    buffered tail written, the segment sealed) measured."""

    writer_cpu = 0.0
    stop_cpu = 0.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        write = self._writer.write

        def timed_write(ticks: Sequence[Tick]) -> None:
            started = time.thread_time()
            try:
                write(ticks)
            finally:
                self.writer_cpu += time.thread_time() - started

        self._writer.write = timed_write  # type: ignore[method-assign]

    async def on_stop(self) -> None:
        started = time.process_time()
        await super().on_stop()
        self.stop_cpu = time.process_time() - started


@contextmanager
def recording(root: Path, *, discard: bool = False) -> Iterator[list[TimedRecorder]]:
    """Backtests never record; for this measurement the recorder joins their pipeline."""
    real = backtest_module.Pipeline
    recorders: list[TimedRecorder] = []

    def with_recorder(**kwargs: Any) -> Any:
        recorder = TimedRecorder(bus=kwargs["bus"], config=RecorderConfig(root=root))
        recorders.append(recorder)
        return real(**{**kwargs, "extra_services": [recorder]})

    backtest_module.Pipeline = with_recorder  # type: ignore[assignment,misc]
    if discard:
        recorder_module.TickWriter = DiscardingWriter  # type: ignore[misc]
    try:
        yield recorders
    finally:
        backtest_module.Pipeline = real  # type: ignore[misc]
        recorder_module.TickWriter = TickWriter  # type: ignore[misc]


MODES = ("off", "consume", "on")


def pipeline_cost(ticks: int, runs: int, seed: int) -> dict[str, Any]:
    """Interleaved off/consume/on runs; wall-clock throughput and ticks per CPU second
    (every thread of the process: the writer thread's work counts), medians compared."""
    runs_by_mode: dict[str, list[Any]] = {mode: [] for mode in MODES}
    recorded: list[int] = []
    dropped: list[int] = []
    writer_cpu: list[float] = []
    stop_cpu: list[float] = []
    with_stop: list[float] = []
    loads = [os.getloadavg()[0]]
    for _ in range(runs):
        runs_by_mode["off"].append(one_run(ticks, seed, 256))
        for mode in MODES[1:]:
            with (
                tempfile.TemporaryDirectory() as scratch,
                recording(Path(scratch), discard=mode == "consume") as recorders,
            ):
                result = one_run(ticks, seed, 256)
                runs_by_mode[mode].append(result)
                if mode == "on":
                    (recorder,) = recorders
                    recorded.append(recorder.recorded)
                    dropped.append(recorder.dropped)
                    writer_cpu.append(recorder.writer_cpu)
                    stop_cpu.append(recorder.stop_cpu)
                    with_stop.append(ticks / (result.cpu_seconds + recorder.stop_cpu))
        loads.append(os.getloadavg()[0])
    report: dict[str, Any] = {"ticks": ticks}
    for mode, results in runs_by_mode.items():
        report[f"{mode}_ticks_per_s_median"] = round(
            statistics.median(r.ticks_per_s for r in results)
        )
        report[f"{mode}_ticks_per_cpu_s_median"] = round(
            statistics.median(r.ticks / r.cpu_seconds for r in results)
        )
        report[f"{mode}_runs"] = [round(r.ticks_per_s) for r in results]
        report[f"{mode}_cpu_runs"] = [round(r.ticks / r.cpu_seconds) for r in results]
    report["on_with_stop_ticks_per_cpu_s_median"] = round(statistics.median(with_stop))
    for mode in MODES[1:]:
        for figure in ("ticks_per_s", "ticks_per_cpu_s"):
            off, on = report[f"off_{figure}_median"], report[f"{mode}_{figure}_median"]
            report[f"{mode}_cost_pct_{figure}"] = round(100 * (1 - on / off), 1)
    off_cpu = report["off_ticks_per_cpu_s_median"]
    report["on_with_stop_cost_pct_ticks_per_cpu_s"] = round(
        100 * (1 - report["on_with_stop_ticks_per_cpu_s_median"] / off_cpu), 1
    )
    report["pipeline_cpu_us_per_tick"] = round(1e6 / off_cpu, 2)
    report["writer_thread_cpu_us_per_tick"] = round(statistics.median(writer_cpu) * 1e6 / ticks, 2)
    report["stop_cpu_us_per_tick"] = round(statistics.median(stop_cpu) * 1e6 / ticks, 2)
    report["every_tick_recorded"] = all(count == ticks for count in recorded)
    report["recorded_runs"] = recorded
    report["dropped_runs"] = dropped  # counted, never silent: a write behind a slow disk
    report["load_average"] = [round(load, 1) for load in loads]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=1_000_000, help="ticks written and loaded")
    parser.add_argument("--batch", type=int, default=50_000, help="ticks per write (flush)")
    parser.add_argument("--pipeline-ticks", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    ticks = simulated(args.ticks, args.seed)
    store = [write_and_load(ticks, args.batch) for _ in range(3)]
    convert = convert_cost(ticks[: args.batch], runs=5)
    del ticks
    report = {
        "benchmark": "tick_store",
        "ticks": args.ticks,
        "batch": args.batch,
        **{key: statistics.median(run[key] for run in store) for key in store[0]},
        "convert": convert,
        "pipeline": pipeline_cost(args.pipeline_ticks, args.runs, args.seed),
        "python": platform.python_version(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
