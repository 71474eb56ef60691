"""The trading day inside the book: where each position stood when the session began.

Day figures are today's part of the overall ones. Realized P&L and charges are fill
math, so their day part is the overall figure less its value at the session's start
(a pure function of the journal in journal order). Unrealized P&L is measured against
where the carried quantity stood at the start: at the previous close the feed reports
(``Tick.close``), else the last price seen before the session, else its cost. So
``day realized + day unrealized − day charges`` is exactly today's change in equity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.portfolio.ledger import ZERO, PositionLedger


@dataclass(slots=True)
class DayStart:
    """One position's figures when the current trading day began (or when it opened today)."""

    realized_pnl: Decimal = ZERO
    charges: Decimal = ZERO
    net_quantity: int = 0
    cost_basis: Decimal = ZERO

    @classmethod
    def of(cls, ledger: PositionLedger) -> DayStart:
        return cls(ledger.realized_pnl, ledger.charges, ledger.net_quantity, ledger.cost_basis)

    def unrealized_at(self, reference: Decimal | None) -> Decimal:
        """Unrealized P&L of the carried quantity at ``reference`` (zero when unknown)."""
        if not self.net_quantity or reference is None:
            return ZERO
        return self.net_quantity * reference - self.cost_basis


@dataclass(frozen=True, slots=True)
class DayResult:
    """The P&L of one trading day, as the book last saw it (backtests report these)."""

    day: str  # ISO date
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    charges: Decimal

    @property
    def pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl - self.charges
