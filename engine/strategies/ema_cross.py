"""EMA crossover: long when the fast EMA crosses above the slow one, out (or short) below.

Both averages update in constant time per tick; no signal until the slow EMA has seen
``slow`` prices, and then only on an actual cross, never on the first reading.
"""

from __future__ import annotations

from engine.strategies.base import InstrumentState, Position, PositionalStrategy
from engine.strategies.params import EmaCrossParams


class _EmaState(InstrumentState):
    __slots__ = ("above", "count", "fast", "slow")

    def __init__(self) -> None:
        super().__init__()
        self.fast = 0.0
        self.slow = 0.0
        self.count = 0
        self.above: bool | None = None


class EmaCross(PositionalStrategy[_EmaState]):
    kind = "ema_cross"

    def __init__(self, name: str, params: EmaCrossParams) -> None:
        super().__init__(name, params)
        self._fast_alpha = 2.0 / (params.fast + 1)
        self._slow_alpha = 2.0 / (params.slow + 1)
        self._warmup = params.slow
        self._label = f"EMA{params.fast}/EMA{params.slow}"

    def new_state(self) -> _EmaState:
        return _EmaState()

    def update(self, state: _EmaState, price: float) -> tuple[Position, str] | None:
        # Runs for every tick: the state is read into locals once (same float operations).
        count = state.count
        if count == 0:
            fast = slow = price
        else:
            fast = state.fast
            fast += self._fast_alpha * (price - fast)
            slow = state.slow
            slow += self._slow_alpha * (price - slow)
        state.fast = fast
        state.slow = slow
        state.count = count = count + 1
        if count < self._warmup or fast == slow:
            return None
        above = fast > slow
        previous, state.above = state.above, above
        if previous is None or previous == above:
            return None
        if above:
            return Position.LONG, f"{self._label} crossed up"
        return Position.SHORT, f"{self._label} crossed down"
