"""Strategies: pure tick-to-intent functions, their configuration, and the runner service."""

from engine.strategies.base import (
    InstrumentState,
    Position,
    PositionalStrategy,
    SignalIntent,
    Strategy,
)
from engine.strategies.config import (
    StrategyConfig,
    StrategyConfigError,
    default_strategies_path,
    load_strategies,
    parse_strategies,
)
from engine.strategies.ema_cross import EmaCross
from engine.strategies.factory import StrategyBinding, build_strategies, build_strategy
from engine.strategies.mean_reversion import MeanReversion
from engine.strategies.momentum import Momentum
from engine.strategies.rsi import Rsi
from engine.strategies.runner import StrategyRunner

__all__ = [
    "EmaCross",
    "InstrumentState",
    "MeanReversion",
    "Momentum",
    "Position",
    "PositionalStrategy",
    "Rsi",
    "SignalIntent",
    "Strategy",
    "StrategyBinding",
    "StrategyConfig",
    "StrategyConfigError",
    "StrategyRunner",
    "build_strategies",
    "build_strategy",
    "default_strategies_path",
    "load_strategies",
    "parse_strategies",
]
