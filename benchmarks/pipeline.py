"""EMA-cross backtest through the live pipeline (strategy → risk → paper execution →
portfolio); prints one JSON object: ticks/s over several runs, and a memory check.

Every run builds a fresh ``Pipeline`` on a ``MemoryBus`` with the ``MemoryTradingStore``
(``engine.backtest.run_backtest``): no vectorised shortcut. The memory check replays a
longer run in a fresh process (a heap grown by the timed runs would hide growth) and
samples RSS after warm-up and at the end, twice: with the in-memory store, which keeps
every order and fill as a database would, and with finished orders and their fills
leaving RAM, as rows of the SQLite or PostgreSQL store do. Every buffer, history and dedup
window of the engine is bounded, so the second must stay flat.
Run: ``python benchmarks/pipeline.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backtest import (
    BacktestResult,
    BacktestStore,
    SyntheticTicks,
    run_backtest,
)
from engine.instruments import load_default_registry
from engine.memory_use import current_rss_mb, peak_rss_mb
from engine.strategies.config import TICKS, load_strategies
from engine.strategies.factory import build_strategy

logging.getLogger("alphapanda").setLevel(logging.ERROR)  # rejections are logged at INFO
STRATEGY = "ema-cross"  # the bundled EMA 12/26 cross on RELIANCE, INFY, HDFCBANK, on ticks


def one_run(
    ticks: int,
    seed: int,
    sync_every: int | None,
    progress: Any = None,
    store: BacktestStore | None = None,
) -> BacktestResult:
    registry = load_default_registry()
    config = next(c for c in load_strategies() if c.name == STRATEGY)
    on_ticks = config.model_copy(update={"bars": TICKS})  # per-tick cost, as NautilusTrader's
    return run_backtest(
        bindings=[build_strategy(on_ticks, registry)],
        registry=registry,
        source=SyntheticTicks(ticks, seed=seed),
        progress=progress,
        sync_every=sync_every,
        store=store,
    )


class RowsLeaveRamStore(BacktestStore):
    """The in-memory store, except that an order and its fills leave RAM once the order
    is finished (counted, not kept): what a database-backed store's process holds.
    Benchmark only: a redelivered duplicate fill would then rest on the processed-id window."""

    def __init__(self) -> None:
        super().__init__()
        self.archived_orders = 0
        self._fill_keys: dict[str, list[Any]] = {}

    async def update_order(self, order: Any) -> None:
        await super().update_order(order)
        self._archive_if_done(order)

    async def record_fill(self, fill: Any, position: Any, processed: Any = None) -> bool:
        recorded = await super().record_fill(fill, position, processed)
        self.fills.pop((fill.broker, fill.trade_id), None)  # the portfolio's journal row
        return recorded

    async def apply_execution(self, order: Any, fill: Any) -> bool:
        applied = await super().apply_execution(order, fill)
        if applied and fill is not None:
            self._fill_keys.setdefault(order.client_order_id, []).append(
                (fill.broker, fill.trade_id)
            )
        self._archive_if_done(order)
        return applied

    def _archive_if_done(self, order: Any) -> None:
        if not order.status.is_terminal:
            return
        coid = order.client_order_id
        if self.orders.pop(coid, None) is not None:
            self.archived_orders += 1
        for key in self._fill_keys.pop(coid, ()):
            self.fills.pop(key, None)


STORES: dict[str, type[BacktestStore]] = {
    "memory": BacktestStore,
    "rows-leave-ram": RowsLeaveRamStore,
}


def sqlite_counting_store(url: str) -> Any:
    """Paper mode's default store (SQLite through SQLAlchemy: rows on disk) with the
    counters the backtest summary reads. Opt-in: 1,000,000 ticks take ~10 minutes."""
    from storage.database import create_engine_for
    from storage.migrate import upgrade_async
    from storage.store import SqlTradingStore

    class SqlCountingStore(SqlTradingStore):
        def __init__(self, engine: Any) -> None:
            super().__init__(engine)
            self.orders_written = self.risk_rejections = self._rejected = self._fills = 0

        async def insert_order(self, order: Any, processed: Any = None) -> bool:
            inserted = await super().insert_order(order, processed)
            self.orders_written += inserted
            return inserted

        async def update_order(self, order: Any) -> None:
            await super().update_order(order)
            self._rejected += order.status.value == "REJECTED"

        async def apply_execution(self, order: Any, fill: Any) -> bool:
            applied = await super().apply_execution(order, fill)
            self._fills += applied and fill is not None
            return applied

        async def add_alert(self, alert: Any) -> None:
            self.risk_rejections += alert.severity.value == "WARNING"
            await super().add_alert(alert)

        def rejected_orders(self) -> int:
            return self._rejected

        def fill_count(self) -> int:
            return self._fills

    asyncio.run(upgrade_async(url))
    return SqlCountingStore(create_engine_for(url))


def memory_check(
    ticks: int, warmup: int, seed: int, sync_every: int | None, store: str = "memory"
) -> dict[str, Any]:
    """The RSS check with one of ``STORES`` or ``"sqlite"`` (a temporary database file)."""
    if store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "paper.db"
            kept = sqlite_counting_store(f"sqlite+aiosqlite:///{database}")
            report = _sample_rss(ticks, warmup, seed, sync_every, kept)
            report.update(store=store, database_mb=round(database.stat().st_size / 2**20, 1))
            return report
    kept = STORES[store]()
    report = _sample_rss(ticks, warmup, seed, sync_every, kept)
    report.update(
        store=store,
        orders_kept_in_store=len(kept.orders),
        fills_kept_in_store=len(kept.fills),
    )
    return report


def _sample_rss(
    ticks: int, warmup: int, seed: int, sync_every: int | None, kept: Any
) -> dict[str, Any]:
    samples: dict[str, float] = {}

    def sample(published: int) -> None:
        if published >= warmup and "warm" not in samples:
            gc.collect()  # live memory, not how much cyclic garbage awaits the collector
            samples["warm"] = current_rss_mb()

    result = one_run(ticks, seed, sync_every, progress=sample, store=kept)
    gc.collect()
    samples["end"] = current_rss_mb()
    warm = samples.get("warm", samples["end"])
    return {
        "ticks": result.ticks,
        "rss_after_warmup_mb": warm,
        "rss_end_mb": samples["end"],
        "growth_pct": round((samples["end"] - warm) / warm * 100, 1),
        "orders": result.orders,
        "fills": result.fills,
        "realized_pnl": str(result.realized_pnl),
        "ticks_per_s": round(result.ticks_per_s),
    }


def memory_check_fresh(
    ticks: int, warmup: int, seed: int, sync_every: int | None, store: str
) -> dict[str, Any]:
    """``memory_check`` in a new interpreter, so nothing run before shapes its heap."""
    command = [
        sys.executable,
        __file__,
        "--memory-only",
        store,
        "--memory-ticks",
        str(ticks),
        "--memory-warmup",
        str(warmup),
        "--seed",
        str(seed),
        "--sync-every",
        str(sync_every or 0),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def sampled_profile(ticks: int, seed: int, sync_every: int | None, top: int = 30) -> None:
    """Statistical profile of one run on stderr: the share of CPU samples (SIGPROF every
    CPU millisecond) per function, on its own and with its callees.

    Unlike cProfile it adds nothing per call, so thousands of small calls are not
    over-weighted; a sample lands where Python next checks for signals (a function's
    entry, after a call), so C work done just before a call counts towards the callee.
    """
    import signal
    from collections import Counter

    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()

    def label(frame: Any) -> str:
        code = frame.f_code
        where = Path(code.co_filename)
        return f"{where.parent.name}/{where.name}:{code.co_firstlineno} {code.co_name}"

    def on_sample(_signum: int, frame: Any) -> None:
        if frame is None:
            return
        own[label(frame)] += 1
        seen = set()
        while frame is not None:
            name = label(frame)
            if name not in seen:
                seen.add(name)
                inclusive[name] += 1
            frame = frame.f_back

    previous = signal.signal(signal.SIGPROF, on_sample)
    signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
    try:
        one_run(ticks, seed, sync_every)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, previous)
    total = max(1, sum(own.values()))
    for title, counts in (("self", own), ("inclusive", inclusive)):
        print(f"-- {title} (% of {total} samples)", file=sys.stderr)
        for name, count in counts.most_common(top):
            print(f"{100 * count / total:6.2f}  {name}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--sync-every", type=int, default=256, help="0: never wait (yield only)")
    parser.add_argument("--memory-ticks", type=int, default=1_000_000, help="0: skip the check")
    parser.add_argument("--memory-warmup", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true", help="cProfile one run to stderr")
    parser.add_argument(
        "--sample", action="store_true", help="sampling profile of one run to stderr"
    )
    parser.add_argument(
        "--memory-only",
        choices=[*sorted(STORES), "sqlite"],
        help="only the memory check, with this store (sqlite: slow, opt-in)",
    )
    args = parser.parse_args()
    sync = args.sync_every or None
    if args.memory_only:
        print(
            json.dumps(
                memory_check(
                    args.memory_ticks, args.memory_warmup, args.seed, sync, args.memory_only
                )
            )
        )
        return
    if args.sample:
        sampled_profile(args.ticks, args.seed, sync)
        return
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        one_run(args.ticks, args.seed, sync)
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        return
    results = [one_run(args.ticks, args.seed, sync) for _ in range(args.runs)]
    first = results[0]
    report: dict[str, Any] = {
        "benchmark": "pipeline_ema_cross_backtest",
        "strategy": STRATEGY,
        "ticks": args.ticks,
        "seed": args.seed,
        "sync_every": sync,
        "ticks_per_s_median": round(statistics.median(r.ticks_per_s for r in results)),
        "ticks_per_s_runs": [round(r.ticks_per_s) for r in results],
        "ticks_per_cpu_s_median": round(
            statistics.median(r.ticks / r.cpu_seconds for r in results if r.cpu_seconds)
        ),
        "signals": first.signals,
        "orders": first.orders,
        "fills": first.fills,
        "rejections": first.rejections,
        "realized_pnl": str(first.realized_pnl),
        "deterministic": len({(r.signals, r.orders, r.fills, r.realized_pnl) for r in results})
        == 1,
        "peak_rss_mb": peak_rss_mb(),
        "python": platform.python_version(),
    }
    if args.memory_ticks:
        report["memory"] = [
            memory_check_fresh(args.memory_ticks, args.memory_warmup, args.seed, sync, store)
            for store in STORES
        ]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
