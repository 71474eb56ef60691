"""Rules a switched-off limit leaves idle are skipped: never a different verdict."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from engine.clock import IST, datetime_to_ns
from engine.events.types import Broker, Side, TradingMode
from engine.market.square_off import MisCutoffs
from engine.risk.limits import StrategyPositionLimit
from engine.risk.rules import _IDLE_WHEN, RULES, RuleContext, active_rules, on_limit
from engine.risk.state import RiskState
from engine.trading_state import TradingState
from tests.unit.risk.harness import (
    INFY,
    KNOWN,
    NO_LIMITS,
    limits,
    make_signal,
    pnl_snapshot,
    position_snapshot,
)

SATURDAY = datetime_to_ns(datetime(2024, 6, 1, 10, 0, tzinfo=IST))


def _busy_state() -> RiskState:
    """A position, a loss, open orders and recent sends: what would trip any live limit."""
    state = RiskState()
    state.apply_position(position_snapshot(10_000, "1500", "ema", INFY, last_price="1500"))
    state.apply_pnl(pnl_snapshot("-1000000", "0", ts=0))
    for n in range(200):
        state.record_validated(make_signal(signal_ts=SATURDAY - n))
    return state


def test_with_every_limit_off_only_the_unconditional_rules_run() -> None:
    idle = set(_IDLE_WHEN)
    assert active_rules(RULES, NO_LIMITS) == tuple(r for r in RULES if r not in idle)
    everything_on = limits(
        max_order_value=Decimal("1"),
        max_position_value=Decimal("1"),
        max_gross_exposure=Decimal("1"),
        max_daily_loss=Decimal("1"),
        max_open_orders=1,
        price_band_pct=Decimal("1"),
        max_orders_per_second=1,
        enforce_market_hours=True,
        strategy_positions={"ema": StrategyPositionLimit(1)},
        mis_cutoffs=MisCutoffs(),
    )
    assert active_rules(RULES, everything_on) == RULES


def test_a_skipped_rule_would_have_passed_whatever_the_signal_and_state() -> None:
    trading = TradingState(Broker.PAPER)
    trading.set(TradingMode.ACTIVE)
    ctx = RuleContext(NO_LIMITS, _busy_state(), trading, KNOWN.__contains__)
    signals = [
        make_signal(signal_ts=SATURDAY, quantity=10**9),
        make_signal(signal_ts=SATURDAY, price="1.05", side=Side.SELL),
        make_signal(signal_ts=0, quantity=0, token=INFY),
    ]
    for rule in set(RULES) - set(active_rules(RULES, NO_LIMITS)):
        for signal in signals:
            assert rule(signal, ctx) is None, rule.__name__


def test_a_rule_naming_a_limit_risk_limits_does_not_have_fails_where_it_is_declared() -> None:
    """A misspelt limit fails at import, not at the first signal the rule judges."""
    with pytest.raises(ValueError, match="RiskLimits has no limit 'max_order_valu'"):
        on_limit("max_order_valu")
