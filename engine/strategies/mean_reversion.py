"""Mean reversion: buy a price ``entry_z`` deviations below its rolling mean, exit near it.

The rolling sum and sum of squares update in constant time; they are re-added from the
window now and then so floating-point drift never builds up over a long session.
"""

from __future__ import annotations

import math
from collections import deque

from engine.strategies.base import InstrumentState, Position, PositionalStrategy
from engine.strategies.params import MeanReversionParams

_RESYNC_EVERY = 10_000


class _ZState(InstrumentState):
    __slots__ = ("since_resync", "total", "total_sq", "window")

    def __init__(self, size: int) -> None:
        super().__init__()
        self.window: deque[float] = deque(maxlen=size)
        self.total = 0.0
        self.total_sq = 0.0
        self.since_resync = 0


class MeanReversion(PositionalStrategy[_ZState]):
    kind = "mean_reversion"

    def __init__(self, name: str, params: MeanReversionParams) -> None:
        super().__init__(name, params)
        self._size = params.window
        self._entry = params.entry_z
        self._exit = params.exit_z

    def new_state(self) -> _ZState:
        return _ZState(self._size)

    def update(self, state: _ZState, price: float) -> tuple[Position, str] | None:
        z = self._zscore(state, price)
        if z is None:
            return None
        position = state.position
        if position is Position.FLAT:
            if z <= -self._entry:
                return Position.LONG, f"z {z:.2f} below -{self._entry}"
            if z >= self._entry:
                return Position.SHORT, f"z {z:.2f} above {self._entry}"
        elif position is Position.LONG and z >= -self._exit:
            return Position.FLAT, f"z {z:.2f} back to the mean"
        elif position is Position.SHORT and z <= self._exit:
            return Position.FLAT, f"z {z:.2f} back to the mean"
        return None

    def _zscore(self, state: _ZState, price: float) -> float | None:
        window = state.window
        if len(window) == self._size:
            oldest = window[0]
            state.total -= oldest
            state.total_sq -= oldest * oldest
        window.append(price)
        state.total += price
        state.total_sq += price * price
        state.since_resync += 1
        if state.since_resync >= _RESYNC_EVERY:
            state.total = math.fsum(window)
            state.total_sq = math.fsum(p * p for p in window)
            state.since_resync = 0
        n = len(window)
        if n < self._size:
            return None
        mean = state.total / n
        variance = state.total_sq / n - mean * mean
        if variance <= mean * mean * 1e-12:  # flat window: no spread to measure against
            return None
        return (price - mean) / math.sqrt(variance)
