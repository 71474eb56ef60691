"""The one rule for "does this order only reduce a position", shared by risk and execution.

While a strategy is REDUCING only such orders may go out, and risk (before validating a
signal) and execution (just before an order leaves) must agree on which those are, or
an order risk let through would be refused at the last moment, or worse, the reverse.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.events.types import Side


def only_reduces(net: int, side: Side, quantity: int, working_same_side: Callable[[], int]) -> bool:
    """True when ``quantity`` on ``side`` shrinks the position ``net`` without flipping it.

    ``working_same_side`` is the quantity still working on the same side (orders already
    reducing), asked only when the side closes the position: working it out costs more
    than the rest. Working orders on the other side never add room: one may never fill
    (a restart cancels it), and then the room it seemed to leave would flip the position.
    """
    if net == 0 or (net > 0) == (side is Side.BUY):
        return False
    return quantity + working_same_side() <= abs(net)
