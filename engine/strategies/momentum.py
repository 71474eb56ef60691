"""Momentum: long when the return over ``lookback`` ticks beats the threshold, out below -it."""

from __future__ import annotations

from collections import deque

from engine.strategies.base import InstrumentState, Position, PositionalStrategy
from engine.strategies.params import MomentumParams


class _MomentumState(InstrumentState):
    __slots__ = ("prices",)

    def __init__(self, lookback: int) -> None:
        super().__init__()
        self.prices: deque[float] = deque(maxlen=lookback + 1)


class Momentum(PositionalStrategy[_MomentumState]):
    kind = "momentum"

    def __init__(self, name: str, params: MomentumParams) -> None:
        super().__init__(name, params)
        self._lookback = params.lookback
        self._threshold = params.threshold

    def new_state(self) -> _MomentumState:
        return _MomentumState(self._lookback)

    def update(self, state: _MomentumState, price: float) -> tuple[Position, str] | None:
        prices = state.prices
        prices.append(price)
        if len(prices) <= self._lookback:
            return None
        change = price / prices[0] - 1.0
        if change > self._threshold:
            return Position.LONG, f"{self._lookback}-tick return {change:+.2%}"
        if change < -self._threshold:
            return Position.SHORT, f"{self._lookback}-tick return {change:+.2%}"
        return None
