"""Trading state (ACTIVE / REDUCING / HALTED), globally and per strategy, and the kill switch."""

from engine.trading_state.control import TradingControl
from engine.trading_state.operator import OperatorControl, TradingOperator
from engine.trading_state.service import TradingStateService, TradingStateStore
from engine.trading_state.state import GLOBAL_SCOPE, TradingState, is_stricter

__all__ = [
    "GLOBAL_SCOPE",
    "OperatorControl",
    "TradingControl",
    "TradingOperator",
    "TradingState",
    "TradingStateService",
    "TradingStateStore",
    "is_stricter",
]
