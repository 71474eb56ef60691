"""``FundsBook``: the paper account's money, from its fills alone, to the paisa.

available = starting cash + realised P&L − charges − used margin. Open quantity is kept
as first-in-first-out lots at their fill prices, so realised P&L and the margin an open
position blocks are exact ``Decimal`` sums (no running average to round). A lot's
margin follows its product: CNC and NRML block the full value (NRML as CNC: the paper
venue has no SPAN figures); MIS blocks the value divided by the configured leverage,
rounded up to the paisa so the model never lends a fraction of one.

The book is built only by applying fills in journal order, so the same journal always
gives the same figures: a restart rebuilds it and nothing else is stored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from engine.domain.records import FillRecord
from engine.events.types import Product, Side

PAISA = Decimal("0.01")
PositionKey = tuple[str, int]  # (strategy, instrument token)


@dataclass(slots=True)
class Lot:
    """Open quantity bought (positive) or sold (negative) at one price, under one product."""

    quantity: int
    price: Decimal
    product: Product
    client_order_id: str


class FundsBook:
    """Cash, realised P&L, charges and open lots of one paper account."""

    def __init__(self, starting_cash: Decimal, mis_leverage: Decimal = Decimal(5)) -> None:
        if starting_cash < 0:
            raise ValueError("starting cash must not be negative")
        if mis_leverage < 1:
            raise ValueError("MIS leverage must be at least 1")
        self.starting_cash = starting_cash
        self.mis_leverage = mis_leverage
        self.realised = Decimal(0)
        self.charges = Decimal(0)
        self.lots: dict[PositionKey, deque[Lot]] = {}

    # -- fills ----------------------------------------------------------------------
    def apply(self, fill: FillRecord, product: Product) -> None:
        """Book one fill: close opposite lots first in, first out, open the rest."""
        key = (fill.strategy, fill.instrument_token)
        lots = self.lots.setdefault(key, deque())
        sign = fill.side.sign
        left = fill.quantity
        while left and lots and (lots[0].quantity > 0) != (sign > 0):
            lot = lots[0]
            closed = min(left, abs(lot.quantity))
            held = 1 if lot.quantity > 0 else -1
            self.realised += (fill.price - lot.price) * closed * held
            lot.quantity += closed * sign
            left -= closed
            if lot.quantity == 0:
                lots.popleft()
        if left:
            lots.append(Lot(left * sign, fill.price, product, fill.client_order_id))
        if not lots:
            del self.lots[key]
        self.charges += fill.charges

    # -- figures --------------------------------------------------------------------
    def margin_of(self, value: Decimal, product: Product) -> Decimal:
        """What an exposure of ``value`` rupees blocks under ``product``."""
        if product is Product.MIS:
            return (abs(value) / self.mis_leverage).quantize(PAISA, rounding=ROUND_CEILING)
        return abs(value)

    @property
    def used(self) -> Decimal:
        """Margin the open lots block."""
        return sum(
            (
                self.margin_of(lot.price * lot.quantity, lot.product)
                for lots in self.lots.values()
                for lot in lots
            ),
            Decimal(0),
        )

    @property
    def total(self) -> Decimal:
        """Starting cash moved by what the closed trades made and what they cost."""
        return self.starting_cash + self.realised - self.charges

    @property
    def available(self) -> Decimal:
        return self.total - self.used

    def net(self, key: PositionKey) -> int:
        return sum(lot.quantity for lot in self.lots.get(key, ()))

    def opening_quantity(self, key: PositionKey, side: Side, quantity: int) -> int:
        """How much of an order would add exposure: what is left after it closes the
        opposite position (a reducing order opens nothing; a flip opens only the rest)."""
        net = self.net(key)
        if net == 0 or (net > 0) == (side is Side.BUY):
            return quantity
        return max(0, quantity - abs(net))

    def open_order_ids(self) -> set[str]:
        """The orders whose fills still make up an open lot (their product matters)."""
        return {lot.client_order_id for lots in self.lots.values() for lot in lots}
