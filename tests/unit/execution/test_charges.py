"""Zerodha-style charges: a worked example and the properties a contract note always has."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from engine.events.types import Product, Side
from engine.execution.charges import ChargeRates, ChargesModel

MODEL = ChargesModel()
sides = st.sampled_from(list(Side))
products = st.sampled_from(list(Product))
quantities = st.integers(min_value=1, max_value=100_000)
prices = st.integers(min_value=5, max_value=2_000_000).map(lambda paise5: D(paise5) * D("0.05"))


def test_intraday_sell_matches_a_hand_computed_contract_note() -> None:
    # 100 x 1500 = 1,50,000 turnover, MIS sell.
    charges = MODEL.compute(Side.SELL, 100, D("1500"), Product.MIS)
    assert charges.brokerage == D("20.00")  # 0.03% = 45, capped at 20
    assert charges.stt == D("37.50")  # 0.025% on the sell side
    assert charges.exchange_txn == D("4.46")  # 0.00297% = 4.455
    assert charges.sebi == D("0.15")  # 10 per crore
    assert charges.gst == D("4.43")  # 18% of 24.61
    assert charges.stamp_duty == D("0")  # buy side only
    assert charges.total == D("66.54")


def test_delivery_buy_pays_no_brokerage_but_stt_and_stamp() -> None:
    charges = MODEL.compute(Side.BUY, 10, D("1000"), Product.CNC)
    assert charges.brokerage == 0
    assert charges.stt == D("10.00")  # 0.1% both sides
    assert charges.stamp_duty == D("1.50")  # 0.015% on buy


def test_nrml_is_charged_at_intraday_rates() -> None:
    nrml = MODEL.compute(Side.SELL, 50, D("200"), Product.NRML)
    mis = MODEL.compute(Side.SELL, 50, D("200"), Product.MIS)
    assert nrml == mis


def test_partial_fills_of_one_order_share_the_brokerage_cap() -> None:
    first = MODEL.compute(Side.BUY, 100, D("1000"), Product.MIS)
    second = MODEL.compute(Side.BUY, 100, D("1000"), Product.MIS, brokerage_charged=first.brokerage)
    assert first.brokerage == D("20.00")
    assert second.brokerage == 0


@given(sides, quantities, prices, products)
def test_total_is_the_sum_of_non_negative_paise_components(side, quantity, price, product) -> None:
    charges = MODEL.compute(side, quantity, price, product)
    parts = [
        charges.brokerage,
        charges.stt,
        charges.exchange_txn,
        charges.sebi,
        charges.gst,
        charges.stamp_duty,
    ]
    assert charges.total == sum(parts)
    assert all(part >= 0 and part == part.quantize(D("0.01")) for part in parts)


@given(sides, quantities, quantities, prices, products)
def test_charges_never_fall_when_quantity_grows(side, qty_a, qty_b, price, product) -> None:
    small, large = sorted((qty_a, qty_b))
    assert (
        MODEL.compute(side, small, price, product).total
        <= MODEL.compute(side, large, price, product).total
    )


@given(sides, quantities, prices, products, st.integers(min_value=0, max_value=3000))
def test_brokerage_never_exceeds_the_per_order_cap(side, quantity, price, product, paid) -> None:
    already = D(paid) / 100
    charges = MODEL.compute(side, quantity, price, product, brokerage_charged=already)
    assert charges.brokerage <= max(D("0"), ChargeRates().brokerage_cap - already)
