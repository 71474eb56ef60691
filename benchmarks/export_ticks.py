"""Write the ticks ``pipeline.py`` backtests over to a CSV, so another engine can replay
exactly the same stream (``reference_nautilus.py``).

Same generator and config as ``engine.backtest._build_feed`` for the bundled ``ema-cross``
(its instruments, in its order: the order decides which random draws each one gets).
Columns: ts_ns, instrument, bid, ask, last, bid_qty, ask_qty. Run in the project venv:
``.venv/bin/python benchmarks/export_ticks.py --ticks 300000 --seed 3 --out /tmp/ticks.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.instruments import load_default_registry
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from engine.strategies.config import load_strategies
from engine.strategies.factory import build_strategy

STRATEGY = "ema-cross"  # as in pipeline.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    registry = load_default_registry()
    config = next(c for c in load_strategies() if c.name == STRATEGY)
    binding = build_strategy(config, registry)
    keys = tuple(dict.fromkeys(i.key for i in binding.instruments))
    feed = SimulatedFeedConfig(
        seed=args.seed, instruments=keys, ticks_per_second=None, max_ticks=args.ticks
    )
    with args.out.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("ts_ns", "instrument", "bid", "ask", "last", "bid_qty", "ask_qty"))
        for t in iter_ticks(registry, feed):
            writer.writerow(
                (
                    t.exchange_ts,
                    t.symbol,
                    t.bid,
                    t.ask,
                    t.last_price,
                    t.bid_quantity,
                    t.ask_quantity,
                )
            )
    print(f"{args.ticks} ticks of {', '.join(keys)} (seed {args.seed}) -> {args.out}")


if __name__ == "__main__":
    main()
