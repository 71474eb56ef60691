"""Worked examples of the average-cost ledger, each checked by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.events.types import Side
from engine.portfolio.ledger import PositionLedger, cash_flow


def test_buying_into_a_long_averages_the_price() -> None:
    ledger = PositionLedger()
    ledger.apply(Side.BUY, 10, D("100"))
    ledger.apply(Side.BUY, 10, D("110"))
    assert (ledger.net_quantity, ledger.average_price, ledger.realized_pnl) == (20, D("105"), 0)


def test_reducing_realizes_exit_minus_average_and_keeps_the_average() -> None:
    ledger = PositionLedger()
    ledger.apply(Side.BUY, 10, D("100"))
    ledger.apply(Side.BUY, 10, D("110"))
    realized = ledger.apply(Side.SELL, 15, D("120"))
    assert realized == D("225")  # (120 − 105) × 15
    assert (ledger.net_quantity, ledger.average_price) == (5, D("105"))
    assert ledger.unrealized_pnl(D("107")) == D("10")  # (107 − 105) × 5


def test_crossing_through_zero_realizes_the_closed_part_and_opens_at_the_fill_price() -> None:
    ledger = PositionLedger()
    for side, qty, price in [(Side.BUY, 10, "100"), (Side.BUY, 10, "110"), (Side.SELL, 15, "120")]:
        ledger.apply(side, qty, D(price))
    realized = ledger.apply(Side.SELL, 10, D("100"))
    assert realized == D("-25")  # (100 − 105) × 5 closes the long
    assert (ledger.net_quantity, ledger.average_price) == (-5, D("100"))
    assert ledger.realized_pnl == D("200")
    assert ledger.unrealized_pnl(D("90")) == D("50")  # a short gains when the price falls


def test_covering_a_short_realizes_average_minus_exit() -> None:
    ledger = PositionLedger()
    ledger.apply(Side.SELL, 5, D("100"))
    ledger.apply(Side.SELL, 5, D("102"))
    realized = ledger.apply(Side.BUY, 10, D("95"))
    assert realized == D("60")  # (101 − 95) × 10
    assert (ledger.net_quantity, ledger.average_price, ledger.unrealized_pnl(D("1"))) == (0, 0, 0)


def test_a_non_terminating_average_still_realizes_the_exact_cash_result() -> None:
    ledger = PositionLedger()
    ledger.apply(Side.BUY, 1, D("100"))
    ledger.apply(Side.BUY, 2, D("100.05"))
    assert ledger.average_price == D("100.0333")  # 300.10 / 3, reported to 4 places
    assert ledger.apply(Side.SELL, 1, D("101")) == D("0.9667")  # 101 − 100.03333…
    assert ledger.average_price == D("100.0334")  # 200.0667 / 2: the basis kept its share
    ledger.apply(Side.SELL, 2, D("101"))
    assert ledger.realized_pnl == D("2.90")  # 303 − 300.10, not a rounded average × 3
    assert ledger.average_price == 0


def test_charges_accumulate_per_position_and_are_paid_on_both_sides() -> None:
    ledger = PositionLedger()
    ledger.apply(Side.BUY, 10, D("100"), D("1.25"))
    ledger.apply(Side.SELL, 10, D("101"), D("1.30"))
    assert ledger.charges == D("2.55")
    assert ledger.realized_pnl == D("10")  # realized is before charges, as Kite shows it
    assert cash_flow(Side.BUY, 10, D("100"), D("1.25")) == D("-1001.25")
    assert cash_flow(Side.SELL, 10, D("101"), D("1.30")) == D("1008.70")


def test_an_unmarked_position_has_no_unrealized_pnl_and_is_valued_at_cost() -> None:
    ledger = PositionLedger()
    ledger.apply(Side.SELL, 3, D("250.50"))
    assert ledger.unrealized_pnl(None) == 0
    assert ledger.exposure(None) == D("751.50")


@pytest.mark.parametrize(
    ("quantity", "price", "charges", "error"),
    [
        (0, D("100"), D("0"), ValueError),
        (5, D("0"), D("0"), ValueError),
        (5, D("100"), D("-1"), ValueError),
        (5, 100.5, D("0"), TypeError),
    ],
)
def test_a_bad_fill_is_refused_and_changes_nothing(quantity, price, charges, error) -> None:
    ledger = PositionLedger()
    ledger.apply(Side.BUY, 2, D("10"), D("0.1"))
    with pytest.raises(error):
        ledger.apply(Side.BUY, quantity, price, charges)
    assert ledger == PositionLedger(net_quantity=2, cost_basis=D("20"), charges=D("0.1"))
