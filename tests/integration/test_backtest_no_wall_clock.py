"""A backtest trades the same on a fast machine and on a loaded one.

Within ``sync_every`` the stages interleave as the event loop schedules them; if any
stage's wait could time out, a slower machine would see timeouts a faster one does not,
a different stage would run next, and a fill could land on a different tick. Here the
event loop's clock runs 10,000 times too fast, so every timed wait in the run expires
almost at once: the result must still equal the one under the real clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.backtest import BacktestResult, SyntheticTicks, run_backtest_async
from engine.instruments import load_default_registry
from engine.strategies.config import load_strategies
from engine.strategies.factory import build_strategy

_FIELDS_THAT_ARE_TIMINGS = {"seconds", "ticks_per_s", "cpu_seconds", "max_rss_mb"}


def _run(time_scale: float) -> BacktestResult:
    registry = load_default_registry()
    config = next(c for c in load_strategies() if c.name == "mean-reversion")
    config = config.model_copy(update={"bars": "tick"})  # trades often: many fills to move

    async def main() -> BacktestResult:
        return await run_backtest_async(
            bindings=[build_strategy(config, registry)],
            registry=registry,
            source=SyntheticTicks(30_000, seed=7),
        )

    loop = asyncio.new_event_loop()
    real_time = loop.time
    start = real_time()
    loop.time = lambda: start + (real_time() - start) * time_scale  # type: ignore[method-assign]
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def _comparable(result: BacktestResult) -> dict[str, Any]:
    summary = result.as_dict()
    summary.pop("report", None)
    return {k: v for k, v in summary.items() if k not in _FIELDS_THAT_ARE_TIMINGS}


def test_a_backtest_under_a_racing_clock_trades_exactly_as_under_the_real_one() -> None:
    real = _run(1.0)
    racing = _run(10_000.0)
    assert real.fills > 20, "the case must trade to prove anything"
    assert _comparable(racing) == _comparable(real)
