"""The lockstep driver trades exactly as lockstep on the memory bus, a task per stage.

``engine.lockstep`` runs the stages' steps inline in the order the event loop ran their
tasks, on an ``InlineBus`` that delivers in the memory bus's order; the results must not
move by a paisa. Compared here on strategies that trade on ticks and on bars, and on a
run that an automatic halt interrupts (the control-command path).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.backtest import BacktestResult, SyntheticTicks, run_backtest
from engine.instruments import load_default_registry
from engine.pipeline import PipelineConfig
from engine.risk import RiskLimits
from engine.strategies.config import load_strategies
from engine.strategies.factory import build_strategy

_TIMINGS = {"seconds", "ticks_per_s", "cpu_seconds", "max_rss_mb"}


def _run(
    name: str, bars: str | None, inline: bool, config: PipelineConfig | None
) -> BacktestResult:
    registry = load_default_registry()
    strategy = next(c for c in load_strategies() if c.name == name)
    if bars is not None:
        strategy = strategy.model_copy(update={"bars": bars})
    return run_backtest(
        bindings=[build_strategy(strategy, registry)],
        registry=registry,
        source=SyntheticTicks(12_000, seed=7),
        config=config,
        inline=inline,
    )


def _comparable(result: BacktestResult) -> dict[str, Any]:
    summary = {k: v for k, v in result.as_dict().items() if k not in _TIMINGS}
    curve = result.equity_curve
    return summary | {"trades": result.trades, "instruments": result.instruments, "curve": curve}


@pytest.mark.parametrize(
    ("name", "bars", "config"),
    [
        ("ema-cross", "tick", None),
        ("mean-reversion", "tick", None),
        ("mean-reversion", None, None),  # on its bundled minute bars
        ("momentum", "tick", PipelineConfig(risk=RiskLimits(max_daily_loss=Decimal(300)))),
    ],
)
def test_the_driver_trades_as_the_task_per_stage_lockstep(
    name: str, bars: str | None, config: PipelineConfig | None
) -> None:
    driven = _run(name, bars, inline=True, config=config)
    reference = _run(name, bars, inline=False, config=config)
    assert reference.orders > 0, "the case must trade to prove anything"
    if config is not None:
        assert reference.halts, "the case must halt to cover the control path"
    assert _comparable(driven) == _comparable(reference)


def test_progress_is_reported_while_the_driver_runs() -> None:
    """The driver yields to the event loop between bursts of ticks, so the progress
    callback (and the console, and a stop) still run during a lockstep backtest."""
    registry = load_default_registry()
    strategy = next(c for c in load_strategies() if c.name == "ema-cross")
    seen: list[int] = []
    result = run_backtest(
        bindings=[build_strategy(strategy.model_copy(update={"bars": "tick"}), registry)],
        registry=registry,
        source=SyntheticTicks(60_000, seed=7),
        progress=seen.append,
    )
    assert any(0 < published < result.ticks for published in seen), seen
