"""The funds seam: a venue that can tell whether the account covers an order.

Execution asks it after the outbox write and the trading-state check, just before an
order that adds exposure leaves (exits and square-offs never wait on it); a reason
refuses the order unsent. Live: ``engine.zerodha.margins.KiteMarginCheck``; paper:
``engine.execution.paper_funds.PaperFunds``. Both word a shortfall the same way
(``shortfall``), so a trader reads one sentence whichever venue refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from engine.events.payloads import OrderIntent
from engine.money import inr


class FundsCheck(Protocol):
    """Whether the account can pay for an order."""

    async def problem(self, intent: OrderIntent) -> str | None:
        """None when the order is covered; else the reason in words, with the figures."""


@dataclass(frozen=True, slots=True)
class Funds:
    """The account's money as the console shows it: what is free, what is blocked.

    ``total`` is ``available + used``; ``source`` names where the figures came from
    (``paper``: the paper funds model; ``zerodha``: Kite's ``margins()``).
    """

    available: Decimal
    used: Decimal
    source: str
    as_of_ns: int = 0

    @property
    def total(self) -> Decimal:
        return self.available + self.used


def shortfall(required: Decimal, available: Decimal) -> str:
    """The refusal of an order the account cannot cover, with both figures."""
    return f"margin: needs {inr(required)}, available {inr(available)}"
