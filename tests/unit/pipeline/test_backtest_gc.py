"""A backtest runs with the collector tuned for throughput and leaves it as it found it.

The run's collections walk everything it keeps; with ``BACKTEST_THRESHOLDS`` they are
rare. A test process and the sweep's workers run backtest after backtest, and the
console may run one, so the settings must come back afterwards.
"""

from __future__ import annotations

import gc

from engine.backtest import BacktestResult, ProgressFn, SyntheticTicks, run_backtest
from engine.gc_tuning import BACKTEST_THRESHOLDS
from engine.instruments import load_default_registry
from engine.strategies.config import TICKS, StrategyConfig
from engine.strategies.factory import build_strategy


def _ema_cross_backtest(progress: ProgressFn) -> BacktestResult:
    registry = load_default_registry()
    config = StrategyConfig(
        name="ema-cross",
        kind="ema_cross",
        params={"fast": 12, "slow": 26, "quantity": 10},
        instruments=("NSE:RELIANCE", "NSE:INFY"),
        bars=TICKS,
    )
    return run_backtest(
        bindings=[build_strategy(config, registry)],
        registry=registry,
        source=SyntheticTicks(3_000, seed=11),
        progress=progress,
    )


def test_the_run_has_rare_collections_and_the_process_gets_its_settings_back() -> None:
    before = gc.get_threshold()
    seen: list[tuple[tuple[int, int, int], int]] = []
    result = _ema_cross_backtest(lambda _: seen.append((gc.get_threshold(), gc.get_freeze_count())))
    assert seen, "progress was never reported"
    threshold, frozen = seen[-1]
    assert threshold == BACKTEST_THRESHOLDS
    assert frozen > 0  # what was built before the run is not walked again
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert result.fills > 0
