"""Zerodha-style charges on one fill, so paper P&L is net of what a real account pays.

Rates follow Zerodha's published equity schedule (NSE). ``NRML`` is charged at the
intraday (``MIS``) rates: the paper venue trades equities, and F&O-specific rates
(STT on futures/options premium) are out of scope until the live adapter reports the
broker's own contract-note charges.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from engine.events.types import Product, Side

PAISE = Decimal("0.01")
_ZERO = Decimal("0")


def to_paise(amount: Decimal) -> Decimal:
    return amount.quantize(PAISE, ROUND_HALF_UP)  # positional: parsed faster than a keyword


@dataclass(frozen=True, slots=True)
class ChargeRates:
    """Rates as fractions of turnover (0.0003 = 0.03%) unless the name says otherwise."""

    brokerage_intraday: Decimal = Decimal("0.0003")
    brokerage_cap: Decimal = Decimal("20")  # rupees per executed order
    brokerage_delivery: Decimal = Decimal("0")
    stt_intraday_sell: Decimal = Decimal("0.00025")
    stt_delivery: Decimal = Decimal("0.001")  # buy and sell
    exchange_txn: Decimal = Decimal("0.0000297")  # NSE
    sebi_per_crore: Decimal = Decimal("10")
    gst: Decimal = Decimal("0.18")  # on brokerage + exchange + SEBI
    stamp_intraday_buy: Decimal = Decimal("0.00003")
    stamp_delivery_buy: Decimal = Decimal("0.00015")

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, Decimal) or value < 0:
                raise ValueError(
                    f"charge rate {name} must be a non-negative Decimal, got {value!r}"
                )


class ChargeBreakdown(msgspec.Struct, frozen=True, gc=False):
    """Each component rounded to paise; ``total`` is their exact sum.

    A struct rather than a frozen dataclass: one is built per fill, ten times cheaper.
    """

    brokerage: Decimal
    stt: Decimal
    exchange_txn: Decimal
    sebi: Decimal
    gst: Decimal
    stamp_duty: Decimal

    @property
    def total(self) -> Decimal:
        return (
            self.brokerage + self.stt + self.exchange_txn + self.sebi + self.gst + self.stamp_duty
        )


_CRORE = Decimal("10000000")


class ChargesModel:
    """Computes the charges of one fill from ``ChargeRates``."""

    def __init__(self, rates: ChargeRates | None = None) -> None:
        self.rates = rates or ChargeRates()

    def compute(
        self,
        side: Side,
        quantity: int,
        price: Decimal,
        product: Product,
        *,
        brokerage_charged: Decimal = _ZERO,
    ) -> ChargeBreakdown:
        """Charges on ``quantity`` at ``price``.

        ``brokerage_charged`` is what earlier fills of the same order already paid, so a
        partially filled order never pays more than the per-order brokerage cap.
        """
        rates = self.rates
        turnover = price * quantity  # = Decimal(quantity) * price, exactly
        buy = side is Side.BUY
        if product is Product.CNC:
            raw_brokerage = turnover * rates.brokerage_delivery
            stt = turnover * rates.stt_delivery
            stamp = turnover * rates.stamp_delivery_buy if buy else _ZERO
        else:
            raw_brokerage = turnover * rates.brokerage_intraday
            stt = _ZERO if buy else turnover * rates.stt_intraday_sell
            stamp = turnover * rates.stamp_intraday_buy if buy else _ZERO
        cap_left = max(_ZERO, rates.brokerage_cap - brokerage_charged)
        brokerage = to_paise(min(raw_brokerage, cap_left))
        exchange = to_paise(turnover * rates.exchange_txn)
        sebi = to_paise(turnover * rates.sebi_per_crore / _CRORE)
        gst = to_paise((brokerage + exchange + sebi) * rates.gst)
        return ChargeBreakdown(
            brokerage=brokerage,
            stt=to_paise(stt),
            exchange_txn=exchange,
            sebi=sebi,
            gst=gst,
            stamp_duty=to_paise(stamp),
        )
