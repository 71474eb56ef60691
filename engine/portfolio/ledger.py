"""Money math of one position, by the average-cost method Zerodha reports. Pure: no I/O.

The ledger keeps the exact signed cost basis of the open quantity instead of a rounded
average price. Only the cost taken out of the basis when a position is partly reduced
is rounded (to ``COST_QUANTUM``), and the same amount leaves the basis as enters the
realized P&L, so ``realized + unrealized`` always equals the trading cash flows plus
the market value exactly: equity reconciles to the paisa, to any number of fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from engine.events.types import Side

ZERO = Decimal("0")
COST_QUANTUM = Decimal("0.0001")  # finer than any NSE/BSE tick (0.0025 on currency)


def require_decimal(value: object, what: str) -> Decimal:
    """Money enters as Decimal (or int) only: a float would carry binary rounding into P&L."""
    if type(value) is Decimal:
        return value  # immutable: no copy needed
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__}")
    return Decimal(value)


def cash_flow(side: Side, quantity: int, price: Decimal, charges: Decimal) -> Decimal:
    """Cash a fill moves: a buy pays its notional, a sell receives it; charges are always paid."""
    return -side.sign * quantity * price - charges


@dataclass(slots=True)
class PositionLedger:
    """Net quantity, cost basis, realized P&L and charges of one position.

    ``cost_basis`` is signed like ``net_quantity`` (a short has a negative basis), so
    ``average_price = cost_basis / net_quantity`` on either side.
    """

    net_quantity: int = 0
    cost_basis: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    charges: Decimal = ZERO

    @property
    def average_price(self) -> Decimal:
        """Average entry price of the open quantity (0 when flat), to ``COST_QUANTUM``."""
        if self.net_quantity == 0:
            return ZERO
        return (self.cost_basis / self.net_quantity).quantize(COST_QUANTUM, ROUND_HALF_EVEN)

    def apply(self, side: Side, quantity: int, price: Decimal, charges: Decimal = ZERO) -> Decimal:
        """Apply one fill; returns the P&L it realized (before charges)."""
        if quantity <= 0:
            raise ValueError(f"fill quantity must be positive, got {quantity}")
        price = require_decimal(price, "price")
        charges = require_decimal(charges, "charges")
        if price <= 0 or charges < 0:
            raise ValueError(f"fill needs price > 0 and charges >= 0 (got {price}, {charges})")
        self.charges += charges
        direction = side.sign
        held = self.net_quantity
        realized = ZERO
        if held != 0 and (held > 0) != (direction > 0):
            realized = self._reduce(min(quantity, abs(held)), price)
            quantity -= min(quantity, abs(held))
        if quantity:
            self.net_quantity += direction * quantity
            self.cost_basis += direction * quantity * price
        return realized

    def _reduce(self, closing: int, price: Decimal) -> Decimal:
        """Close ``closing`` units at ``price``: realize (exit − avg) × qty × sign."""
        held = self.net_quantity
        sign = 1 if held > 0 else -1
        if closing == abs(held):
            removed = self.cost_basis  # all of it, unrounded: flat leaves no residue
        else:
            removed = (self.cost_basis * closing / abs(held)).quantize(
                COST_QUANTUM, ROUND_HALF_EVEN
            )
        realized = sign * closing * price - removed
        self.cost_basis -= removed
        self.net_quantity -= sign * closing
        self.realized_pnl += realized
        return realized

    def market_value(self, mark: Decimal | None) -> Decimal:
        """Signed value at ``mark``; an unmarked position is valued at its cost."""
        if mark is None:
            return self.cost_basis
        return self.net_quantity * mark

    def unrealized_pnl(self, mark: Decimal | None) -> Decimal:
        """(mark − avg) × net quantity; zero when flat or when there is no mark yet."""
        return self.market_value(mark) - self.cost_basis

    def exposure(self, mark: Decimal | None) -> Decimal:
        """Gross exposure: |net quantity| × mark (× avg when unmarked)."""
        return abs(self.market_value(mark))
