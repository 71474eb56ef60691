"""MIS square-offs held back because trading is HALTED, until it is not.

HALTED means no new orders (ARCHITECTURE: "no new orders; cancels allowed"), and the
engine's own cut-off square-off is a new order: a trader who pressed the kill switch may
be closing the position by hand in Kite, and a second exit from us would open the
opposite position. So at a cut-off (or, on paper, a carried MIS position's first tick of
a new day) a HALTED strategy's position is held: the operator gets one CRITICAL alert
saying what is open and what happens next, and the square-off goes out on the first tick
after trading is ACTIVE or REDUCING again, if the position is still open. REDUCING lets
it out at once (it only reduces). The operator's own kill-and-flatten or exit is not
held: that is an explicit order to trade.

Nothing is stored: a process restarted on the same day finds the cut-off due again on its
first tick and holds (or sends) it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from engine.execution.core import MIS_SQUARE_OFF_RULE
from engine.execution.mis_carry import MIS_CARRIED_RULE


class HeldKind(Enum):
    CUTOFF = "cut-off"  # the segment's cut-off passed while HALTED
    CARRIED = "carried"  # paper: carried from an earlier day, found while HALTED


@dataclass(frozen=True, slots=True)
class HeldSquareOff:
    """One position whose square-off waits for trading to resume."""

    kind: HeldKind
    exchange: str
    symbol: str
    what: str  # "the NSE MIS cut-off 15:15 IST on 2024-01-02", or "carried from 2024-01-02"

    def held_message(self, strategy: str, net: int, halted: str, after: str) -> str:
        """The CRITICAL alert's words: what stays open, why, and what happens next
        (``after``: who else closes it, and when)."""
        return (
            f"MIS square-off held ({self.what}): {halted}, so no order was sent; "
            f"{net:+d} {self.symbol} of {strategy} stays open. It goes out at market on the "
            f"first tick after trading resumes; {after}. Exit it yourself, or resume"
        )

    @property
    def rule(self) -> str:
        """The alert rule it is announced under (as the square-off it stands for)."""
        return MIS_CARRIED_RULE if self.kind is HeldKind.CARRIED else MIS_SQUARE_OFF_RULE

    def reason(self) -> str:
        """The order's reason when the held square-off finally goes out."""
        if self.kind is HeldKind.CARRIED:
            return f"MIS position {self.what}, held while HALTED"
        return f"MIS square-off at {self.what}, held while HALTED"
