"""RSI (Wilder's smoothing): long when oversold, out (or short) when overbought."""

from __future__ import annotations

from engine.strategies.base import InstrumentState, Position, PositionalStrategy
from engine.strategies.params import RsiParams


class _RsiState(InstrumentState):
    __slots__ = ("avg_gain", "avg_loss", "changes", "previous")

    def __init__(self) -> None:
        super().__init__()
        self.previous: float | None = None
        self.changes = 0
        self.avg_gain = 0.0
        self.avg_loss = 0.0


def wilder_rsi(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0.0:
        return 50.0 if avg_gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


class Rsi(PositionalStrategy[_RsiState]):
    kind = "rsi"

    def __init__(self, name: str, params: RsiParams) -> None:
        super().__init__(name, params)
        self._period = params.period
        self._oversold = params.oversold
        self._overbought = params.overbought

    def new_state(self) -> _RsiState:
        return _RsiState()

    def update(self, state: _RsiState, price: float) -> tuple[Position, str] | None:
        previous, state.previous = state.previous, price
        if previous is None:
            return None
        change = price - previous
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        period = self._period
        state.changes += 1
        if state.changes <= period:  # seed: simple mean of the first ``period`` changes
            state.avg_gain += gain / period
            state.avg_loss += loss / period
            if state.changes < period:
                return None
        else:
            state.avg_gain = (state.avg_gain * (period - 1) + gain) / period
            state.avg_loss = (state.avg_loss * (period - 1) + loss) / period
        rsi = wilder_rsi(state.avg_gain, state.avg_loss)
        if rsi < self._oversold:
            return Position.LONG, f"RSI{period} {rsi:.1f} oversold"
        if rsi > self._overbought:
            return Position.SHORT, f"RSI{period} {rsi:.1f} overbought"
        return None
