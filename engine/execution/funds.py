"""The funds seam: a venue that can tell whether the account covers an order.

Execution asks it after the outbox write and the trading-state check, just before an
order that adds exposure leaves (exits and square-offs never wait on it); a reason
refuses the order unsent. Live: ``engine.zerodha.margins.KiteMarginCheck``.
"""

from __future__ import annotations

from typing import Protocol

from engine.events.payloads import OrderIntent


class FundsCheck(Protocol):
    """Whether the account can pay for an order."""

    async def problem(self, intent: OrderIntent) -> str | None:
        """None when the order is covered; else the reason in words, with the figures."""
