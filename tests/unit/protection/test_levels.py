"""The protection rules a trader relies on: a stop fires at most once, at the first
crossing; a trailing stop only tightens; percent levels sit on the tick, never tighter
than asked; a bad protection is refused in words."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.events.types import Broker
from engine.protection.levels import (
    STOP_LOSS,
    TARGET,
    TRAILING_STOP,
    Protection,
    check_protection,
    crossed,
    levels_of,
    with_best,
)

TICK = Decimal("0.05")
AVERAGE = Decimal("1000.00")
prices = st.integers(min_value=16_000, max_value=24_000).map(lambda n: Decimal(n) * TICK)
directions = st.sampled_from([1, -1])


def _protection(direction: int = 1, **levels: Decimal | None) -> Protection:
    return Protection(
        broker=Broker.PAPER,
        strategy="manual",
        instrument_token=738561,
        symbol="NSE:RELIANCE",
        direction=direction,
        **levels,
    )


def _run(protection: Protection, ticks: list[Decimal]) -> list[tuple[int, str]]:
    """What the service does per tick: move the best price, check, mark fired."""
    fired: list[tuple[int, str]] = []
    for index, price in enumerate(ticks):
        protection = with_best(protection, price)
        reason = crossed(protection, levels_of(protection, AVERAGE, TICK), price)
        if reason:
            fired.append((index, reason))
            protection = msgspec.structs.replace(protection, fired=reason)
    return fired


@given(direction=directions, stop=prices, ticks=st.lists(prices, max_size=60))
def test_a_stop_fires_at_most_once_at_the_first_crossing(
    direction: int, stop: Decimal, ticks: list[Decimal]
) -> None:
    fired = _run(_protection(direction, stop_price=stop), ticks)

    first = next((i for i, p in enumerate(ticks) if (p - stop) * direction <= 0), None)
    assert fired == ([] if first is None else [(first, STOP_LOSS)])


@given(
    direction=directions,
    trail=st.integers(min_value=1, max_value=400).map(lambda n: Decimal(n) * TICK),
    ticks=st.lists(prices, min_size=1, max_size=60),
)
def test_a_trailing_stop_never_loosens_and_fires_once(
    direction: int, trail: Decimal, ticks: list[Decimal]
) -> None:
    protection = _protection(direction, trail_amount=trail, best_price=ticks[0])
    levels: list[Decimal] = []
    for price in ticks:
        protection = with_best(protection, price)
        level = levels_of(protection, AVERAGE, TICK).trail
        assert level is not None
        levels.append(level)

    assert all((later - earlier) * direction >= 0 for earlier, later in pairwise(levels))
    assert len(_run(_protection(direction, trail_amount=trail, best_price=ticks[0]), ticks)) <= 1


@given(
    direction=directions,
    pct=st.integers(min_value=1, max_value=9_999).map(lambda n: Decimal(n) / 100),
    average=prices,
)
def test_percent_levels_sit_on_the_tick_and_are_never_tighter_than_asked(
    direction: int, pct: Decimal, average: Decimal
) -> None:
    levels = levels_of(_protection(direction, stop_pct=pct, target_pct=pct), average, TICK)
    assert levels.stop is not None and levels.target is not None

    assert levels.stop % TICK == 0 and levels.target % TICK == 0
    exact = average * pct / 100
    assert (average - levels.stop) * direction >= exact
    assert (levels.target - average) * direction >= exact
    assert (average - levels.stop) * direction < exact + TICK


def test_a_one_percent_stop_and_target_on_a_long_and_a_short() -> None:
    long = levels_of(_protection(1, stop_pct=Decimal(1), target_pct=Decimal(2)), AVERAGE, TICK)
    short = levels_of(_protection(-1, stop_pct=Decimal(1), target_pct=Decimal(2)), AVERAGE, TICK)

    assert (long.stop, long.target) == (Decimal("990.00"), Decimal("1020.00"))
    assert (short.stop, short.target) == (Decimal("1010.00"), Decimal("980.00"))


def test_the_tighter_of_a_crossed_stop_and_trailing_stop_is_named() -> None:
    protection = _protection(
        1, stop_price=Decimal("990"), trail_amount=Decimal("5"), best_price=Decimal("1000")
    )
    levels = levels_of(protection, AVERAGE, TICK)

    assert crossed(protection, levels, Decimal("996")) == ""
    assert crossed(protection, levels, Decimal("995")) == TRAILING_STOP
    assert crossed(protection, levels, Decimal("980")) == TRAILING_STOP  # 995 is tighter
    target = _protection(1, target_price=Decimal("1010"))
    assert crossed(target, levels_of(target, AVERAGE, TICK), Decimal("1010")) == TARGET


@pytest.mark.parametrize(
    ("levels", "direction", "problem"),
    [
        ({}, 1, "nothing to protect with: give a stop, a target or a trailing stop"),
        (
            {"stop_price": Decimal("990"), "stop_pct": Decimal(1)},
            1,
            "stop: give a price or a percent, not both",
        ),
        (
            {"stop_price": Decimal("990.03")},
            1,
            "stop 990.03 is not a multiple of the tick size 0.05",
        ),
        ({"target_pct": Decimal(100)}, 1, "target 100% must be between 0 and 100"),
        ({"stop_price": Decimal("NaN")}, 1, "stop must be a number"),
        ({"trail_pct": Decimal("Infinity")}, 1, "trail must be a number"),
        ({"trail_amount": Decimal(0)}, 1, "trail 0 must be above zero"),
        ({"stop_price": Decimal("990")}, 0, "no open position to protect"),
    ],
)
def test_a_bad_protection_is_refused_in_words(
    levels: dict[str, Decimal], direction: int, problem: str
) -> None:
    assert check_protection(_protection(direction, **levels), TICK) == problem


def test_a_good_protection_passes() -> None:
    good = _protection(1, stop_pct=Decimal("1.5"), target_price=Decimal("1020.05"))
    assert check_protection(good, TICK) == ""
