"""Property: however an autoslice order's leg rows arrive (interleaved, repeated, stale),
the client order's filled quantity is the sum of its legs' fills and never passes its
quantity; it ends COMPLETE exactly when every leg filled."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.instruments.freeze import legs
from engine.zerodha.autoslice import LegBook

PARENT = "1914227164488687616"


def _row(leg: int, size: int, filled: int, ts: int) -> dict[str, Any]:
    return {
        "order_id": f"leg{leg}",
        "quantity": size,
        "filled_quantity": filled,
        "status": "COMPLETE" if filled == size else "OPEN",
        "exchange_update_timestamp": f"2026-01-05 10:{ts // 60:02d}:{ts % 60:02d}",
        "tags": ["autoslice", f"autoslice:{PARENT}"],
    }


@st.composite
def leg_rows(draw: st.DrawFn) -> tuple[int, list[int], list[dict[str, Any]]]:
    """An order, its legs, and every row Kite could show for them, in a drawn order."""
    quantity = draw(st.integers(min_value=2, max_value=10_000))
    freeze = draw(st.integers(min_value=1, max_value=quantity - 1))
    sizes = legs(quantity, freeze)
    rows: list[dict[str, Any]] = []
    for leg, size in enumerate(sizes):
        steps = draw(st.lists(st.integers(0, size), max_size=4))
        for filled in [*sorted(steps), size if draw(st.booleans()) else max(steps, default=0)]:
            rows.append(_row(leg, size, filled, len(rows)))
    shuffled = draw(st.permutations(rows))
    repeats = draw(st.lists(st.sampled_from(rows), max_size=5)) if rows else []
    return quantity, sizes, [*shuffled, *repeats]


@settings(max_examples=100, deadline=None)
@given(case=leg_rows())
def test_the_client_order_is_the_sum_of_its_legs(
    case: tuple[int, list[int], list[dict[str, Any]]],
) -> None:
    quantity, sizes, rows = case
    book = LegBook()
    best: dict[str, int] = {}
    for row in rows:
        book.note("AP1", PARENT, row)
        best[row["order_id"]] = max(best.get(row["order_id"], 0), row["filled_quantity"])
        order = book.aggregate("AP1", quantity)
        assert order["filled_quantity"] == sum(best.values()) <= quantity
        assert order["order_id"] == PARENT
    every_leg_full = len(best) == len(sizes) and all(
        best[f"leg{n}"] == size for n, size in enumerate(sizes)
    )
    assert (order["status"] == "COMPLETE") == every_leg_full
