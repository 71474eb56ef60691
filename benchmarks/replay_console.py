"""How fast the console's replay of a recorded day runs at ``--speed max`` (issue 17.2).

A replay publishes each tick only once the whole pipeline has handled the one before
(so it trades as the recorded session did); this measures what that costs: a seeded day
of ``--ticks`` ticks over four instruments is written with the tick store's writer, then
replayed headless (the embedded engine the console runs, its own SQLite file, no
screen) with two quick strategies that trade every few ticks, or with none (``--quiet``:
ticks alone). Prints one JSON line: ticks/s per run, the median, and the orders made.

    .venv/bin/python benchmarks/replay_console.py [--ticks 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alphapanda_tui.replay_day import build_replay_runtime
from alphapanda_tui.settings import load_settings
from engine.instruments import load_default_registry
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from storage.ticks.writer import TickWriter
from tests.integration.replay_support import (
    DAY,
    TRADED,
    replay_test_settings,
)


def record(home: Path, ticks: int) -> None:
    config = SimulatedFeedConfig(seed=11, instruments=TRADED, start_date=DAY, max_ticks=ticks)
    writer = TickWriter(home / "ticks")
    writer.write(list(iter_ticks(load_default_registry(), config)))
    writer.close()


async def replay_once(home: Path, quiet: bool) -> tuple[float, int]:
    """Seconds from the first tick out to the last, and the orders the replay made."""
    if quiet:
        empty = home / "no_strategies.yaml"
        empty.write_text("strategies: []\n")
        settings = load_settings(home=home, strategies_file=empty)
    else:
        settings = replay_test_settings(home)
    runtime = build_replay_runtime(settings, DAY.isoformat(), speed=None)
    await runtime.start()
    try:
        while runtime.replay is None or not runtime.replay.published:
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        while not runtime.replay.ended:
            await asyncio.sleep(0.01)
        return time.perf_counter() - started, len(runtime.read_model.orders)
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quiet", action="store_true", help="no strategies: ticks alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        record(home, args.ticks)
        rates, orders = [], 0
        for _ in range(args.runs):
            seconds, orders = asyncio.run(replay_once(home, args.quiet))
            rates.append(round(args.ticks / seconds))
    print(
        json.dumps(
            {
                "benchmark": "replay_console_max_speed",
                "ticks": args.ticks,
                "strategies": "none" if args.quiet else "momo+revert (tests/integration)",
                "ticks_per_s": rates,
                "median_ticks_per_s": statistics.median(rates),
                "orders": orders,
            }
        )
    )


if __name__ == "__main__":
    main()
