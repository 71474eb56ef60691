"""Trading state (ACTIVE / REDUCING / HALTED), globally and per strategy, and the kill switch."""

from engine.trading_state.state import GLOBAL_SCOPE, TradingState

__all__ = ["GLOBAL_SCOPE", "TradingState"]
