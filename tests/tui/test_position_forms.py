"""The money the position dialogs read and the table writes: typed text to levels, levels
to the compact SL/TP column, exactly (no rounding either way)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.events.payloads import ProtectionState
from engine.events.types import Broker
from screens.position_exit import exit_side, limit_problem
from screens.protection_dialog import levels_from, parse_level
from widgets.positions_table import _compact, protection_text

prices = st.decimals(min_value=Decimal("0.05"), max_value=Decimal("10000000"), places=2)


@given(prices)
def test_a_typed_price_is_read_exactly_and_shown_exactly(price: Decimal) -> None:
    assert parse_level(f"{price:,}") == (price, None)
    assert Decimal(_compact(price)) == price  # the column never rounds a stop


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2))
def test_a_percent_is_a_percent(pct: Decimal) -> None:
    assert parse_level(f"{pct}%") == (None, pct)
    assert parse_level(f" {pct} % ") == (None, pct)


@pytest.mark.parametrize("text", ["abc", "0", "-5", "100%", "nan", "inf", "12x"])
def test_nonsense_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError):
        parse_level(text)


def test_the_three_fields_become_the_levels_sent() -> None:
    levels = levels_from({"stop": "1390", "target": "5%", "trail": "12.5"})
    assert (levels.stop_price, levels.target_pct, levels.trail_amount) == (
        Decimal("1390"),
        Decimal("5"),
        Decimal("12.5"),
    )
    assert levels.stop_pct is None and levels.target_price is None and levels.trail_pct is None
    with pytest.raises(ValueError, match="at least one"):
        levels_from({"stop": "", "target": " ", "trail": ""})
    with pytest.raises(ValueError, match="Target"):
        levels_from({"stop": "1390", "target": "up"})


def test_a_limit_price_is_blank_for_market_or_positive() -> None:
    assert limit_problem("") is None and limit_problem("1,234.50") is None
    assert limit_problem("0") is not None and limit_problem("x") is not None


def test_the_exit_side_closes_the_position() -> None:
    assert exit_side(10) == "SELL" and exit_side(-5) == "BUY"


def _state(**levels: Decimal) -> ProtectionState:
    return ProtectionState(
        broker=Broker.PAPER, strategy="s", instrument_token=1, symbol="NSE:X", **levels
    )


def test_the_column_shows_the_stop_that_fires_first_and_the_target() -> None:
    both = _state(stop=Decimal("1390"), trail=Decimal("1497.40"), target=Decimal("1650.50"))
    assert protection_text(both, long=True) == "TS 1497.4 TP 1650.5"  # the trail is higher
    short = _state(stop=Decimal("1390"), trail=Decimal("1497.40"))
    assert protection_text(short, long=False) == "SL 1390"  # a short's stop is the lower
    assert protection_text(None) == ""
