"""The one "only reduces a position" rule that risk and execution both ask."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.reducing import only_reduces
from engine.events.types import Side

nets = st.integers(min_value=-10_000, max_value=10_000)
quantities = st.integers(min_value=1, max_value=10_000)
working = st.integers(min_value=0, max_value=10_000)


@given(net=nets, side=st.sampled_from(Side), quantity=quantities, already=working)
def test_an_order_only_reduces_when_all_of_it_and_the_working_ones_never_flip_the_position(
    net: int, side: Side, quantity: int, already: int
) -> None:
    after = net + side.sign * (quantity + already)  # this order and the working ones filled

    reduces = only_reduces(net, side, quantity, lambda: already)

    closes = net != 0 and (net > 0) != (side is Side.BUY)
    same_direction_or_flat = after == 0 or (after > 0) == (net > 0)
    assert reduces == (closes and abs(after) < abs(net) and same_direction_or_flat)


@given(net=nets, quantity=quantities)
def test_the_working_quantity_is_not_asked_for_an_order_that_adds(net: int, quantity: int) -> None:
    side = Side.SELL if net < 0 else Side.BUY  # same direction as the position (or flat)

    def never() -> int:
        raise AssertionError("asked for the working quantity of an order that adds")

    assert only_reduces(net, side, quantity, never) is False


def test_a_sell_of_the_whole_long_reduces_but_one_more_share_does_not() -> None:
    assert only_reduces(100, Side.SELL, 100, lambda: 0) is True
    assert only_reduces(100, Side.SELL, 101, lambda: 0) is False
    assert only_reduces(100, Side.SELL, 60, lambda: 40) is True  # 40 already selling
    assert only_reduces(100, Side.SELL, 61, lambda: 40) is False
    assert only_reduces(-50, Side.BUY, 50, lambda: 0) is True
    assert only_reduces(0, Side.SELL, 1, lambda: 0) is False  # flat: every order opens
