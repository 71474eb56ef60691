"""The lockstep driver trades exactly as lockstep on the memory bus, a task per stage.

``engine.lockstep`` runs the stages' steps inline in the order the event loop ran their
tasks, on an ``InlineBus`` that delivers in the memory bus's order; the results must not
move by a paisa. Compared here on strategies that trade on ticks and on bars, and on a
run that an automatic halt interrupts (the control-command path).
"""

from __future__ import annotations

import signal
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


def test_a_stage_leaving_the_lane_trades_as_the_task_per_stage_lockstep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The driver's lane (a tick handed straight to each stage while nothing else is
    going on) hands over to the step loop at the first stage that does not finish the
    tick: here the portfolio leaves some ticks to ``handle`` and, against its contract,
    publishes from ``handle_now`` on others. Every way out of the lane must leave the
    queue and the inboxes as the loop would have: the results equal the reference's."""
    from engine.events import EventType, new_event
    from engine.portfolio.service import PortfolioService

    plain = PortfolioService.handle_now
    seen = {"ticks": 0, "left": 0, "published": 0}

    def handle_now(self: PortfolioService, envelope: Any) -> bool:
        if envelope.type is EventType.MARKET_TICK:
            seen["ticks"] += 1
            if seen["ticks"] % 7 == 0:
                seen["left"] += 1
                return False  # ``handle`` marks the book instead
            if seen["ticks"] % 11 == 0:
                seen["published"] += 1
                note = new_event(EventType.MARKET_TICK, envelope.data, source="test")
                self.bus.publish_nowait("lane.test", note, "")
        return plain(self, envelope)

    monkeypatch.setattr(PortfolioService, "handle_now", handle_now)

    def too_long(*_: object) -> None:  # a stage left without its step never drains
        raise TimeoutError("the driven backtest did not drain: a stage lost its step")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(120)
    try:
        driven = _run("ema-cross", "tick", inline=True, config=None)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert seen["left"] and seen["published"], "both ways out of the lane must be taken"
    reference = _run("ema-cross", "tick", inline=False, config=None)
    assert reference.orders > 0
    assert _comparable(driven) == _comparable(reference)
