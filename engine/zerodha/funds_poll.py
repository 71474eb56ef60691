"""``FundsPoller``: the console's live funds line, read from Kite's ``margins()``.

Order checks already hand every margins read to the console; between orders this poll
keeps the line fresh. It shares the margin check's own rate limiter (so it never eats
into the order budget), runs one read at a time (the next waits for the last to end),
and a read that fails (not logged in, Kite down) is logged once per failure streak and
tried again on the next round, never crashing the service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.execution.funds import Funds
from engine.periodic import PeriodicService
from engine.zerodha.margins import KiteMarginCheck

log = logging.getLogger("alphapanda.zerodha.funds")


class FundsPoller(PeriodicService):
    """Reads the equity margins every ``poll_s`` and hands them to ``on_funds``."""

    def __init__(self, check: KiteMarginCheck, *, poll_s: float = 30.0) -> None:
        if poll_s <= 0:
            raise ValueError("funds poll_s must be positive")
        super().__init__("zerodha.funds", poll_s)
        self.check = check
        self.poll_s = poll_s
        self.reads = 0
        self.last_error = ""

    async def run_once(self) -> Funds | None:
        return await self.poll_once()

    async def poll_once(self) -> Funds | None:
        """One read; None (logged once per streak) when Kite could not tell."""
        try:
            funds = await self.check.read_funds()
        except Exception as exc:  # the margin check's own errors: no figure this round
            why = str(exc) or type(exc).__name__
            if not self.last_error:
                log.warning("funds: could not read Zerodha's margins", extra={"error": why})
            self.last_error = why
            return None
        self.reads += 1
        self.last_error = ""
        return funds

    def health(self) -> ComponentHealth:
        detail = f"{self.reads} reads" + (
            f"; last failed: {self.last_error}" if self.last_error else ""
        )
        return ComponentHealth(
            name=self.name,
            status=ComponentStatus.RUNNING,
            detail=detail,
            processed=self.reads,
        )


def live_funds(
    check: KiteMarginCheck, on_funds: Callable[[Funds], None], *, poll_s: float
) -> FundsPoller:
    """Wire the live venue's funds: every margins read (checks and polls) reaches
    ``on_funds`` (the read model's ``set_funds``); the poller is the venue's service."""
    check.on_funds = on_funds
    return FundsPoller(check, poll_s=poll_s)
