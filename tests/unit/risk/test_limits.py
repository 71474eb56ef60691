"""RiskLimits refuses a configuration that would silently weaken a limit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.risk import RiskLimits


def test_money_limits_become_decimal() -> None:
    built = RiskLimits(max_order_value=50_000, max_daily_loss="2500.50")

    assert built.max_order_value == Decimal("50000")
    assert built.max_daily_loss == Decimal("2500.50")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_order_value", 0.1),  # floats are refused: money is Decimal
        ("max_order_value", 0),
        ("max_daily_loss", Decimal("-1")),
        ("max_gross_exposure", "lots"),
        ("price_band_pct", Decimal("101")),
        ("max_order_quantity", 0),
        ("max_open_orders", -3),
        ("max_orders_per_second", True),
        ("max_consecutive_rejections", 2.5),
    ],
)
def test_invalid_limit_is_refused_with_its_name(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        RiskLimits(**{field: value})


def test_zerodha_order_rate_is_the_default() -> None:
    assert RiskLimits().max_orders_per_second == 10
