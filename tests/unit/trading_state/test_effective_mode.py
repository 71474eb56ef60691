"""One effective-mode rule: what risk and execution enforce is what the console shows."""

from __future__ import annotations

import itertools

import pytest

from engine.events.types import Broker, TradingMode
from engine.read_model import GLOBAL_SCOPE as READ_MODEL_GLOBAL_SCOPE
from engine.read_model import ReadModel
from engine.trading_state.state import GLOBAL_SCOPE, TradingState

MODES = list(TradingMode)
STRICTEST_FIRST = [TradingMode.HALTED, TradingMode.REDUCING, TradingMode.ACTIVE]


@pytest.mark.parametrize(("global_mode", "own_mode"), list(itertools.product(MODES, MODES)))
def test_the_console_shows_the_mode_risk_enforces(
    global_mode: TradingMode, own_mode: TradingMode
) -> None:
    state = TradingState(Broker.PAPER)
    state.set(global_mode, GLOBAL_SCOPE)
    state.set(own_mode, "ema")
    model = ReadModel()
    model.set_trading_state(GLOBAL_SCOPE, global_mode)
    model.set_trading_state("ema", own_mode)

    expected = next(m for m in STRICTEST_FIRST if m in (global_mode, own_mode))
    assert state.effective("ema") is expected
    assert model.effective_state("ema") is expected


def test_one_global_scope_name() -> None:
    assert READ_MODEL_GLOBAL_SCOPE is GLOBAL_SCOPE
