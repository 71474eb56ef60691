"""``OrderFills``: each order's filled quantity already counted, so a fill counts once.

An order's filled quantity only grows (it is the sum of its journalled trades), so a
reader that adds only what an order event adds to the quantity already counted is
idempotent: a redelivered or repeated event adds nothing. Risk and the strategy runner
both count positions this way from order events. Bounded: past ``limit`` orders the
oldest is forgotten (only recent events are ever redelivered).
"""

from __future__ import annotations

ORDERS_KEPT = 200_000


class OrderFills:
    """Filled quantity counted so far per client order id."""

    __slots__ = ("_counted", "limit")

    def __init__(self, limit: int = ORDERS_KEPT) -> None:
        self._counted: dict[str, int] = {}
        self.limit = limit

    def add(self, client_order_id: str, filled: int) -> int:
        """Record that ``filled`` of the order is counted; the quantity new since last time
        (0 when nothing is new)."""
        counted = self._counted.get(client_order_id, 0)
        if filled <= counted:
            return 0
        if client_order_id not in self._counted and len(self._counted) >= self.limit:
            del self._counted[next(iter(self._counted))]  # the oldest order
        self._counted[client_order_id] = filled
        return filled - counted
