"""Kite autoslice legs: one client order, several Kite orders, read as one.

An order above the freeze quantity goes out with ``autoslice=true``; Kite answers with a
parent id (no order of its book) and ``children[]``, and each child is an order whose
row is untagged with ``tags`` ``["autoslice", "autoslice:<parent id>"]``. Ingest keeps
every leg's last row and reads the client order as their sum: filled is the legs'
filled, it works while any leg works, and it ends only when every leg has ended. A leg
Kite refused at placement never appears, so quantity no leg carries ends the order
REJECTED with what did fill (the refusal itself is alerted by execution at placement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_TERMINAL = ("COMPLETE", "CANCELLED", "REJECTED")


def autoslice_parent(row: dict[str, Any]) -> str | None:
    """The autoslice parent id a leg's row names in its ``tags``, else None."""
    for tag in row.get("tags") or []:
        if isinstance(tag, str) and tag.startswith("autoslice:"):
            return tag.split(":", 1)[1]
    return None


@dataclass(slots=True)
class _Legs:
    parent: str
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # Kite order id -> row
    book_read: bool = False


class LegBook:
    """The last row of every leg of every sliced client order this process has seen."""

    def __init__(self) -> None:
        self._orders: dict[str, _Legs] = {}

    def has(self, cid: str) -> bool:
        return cid in self._orders

    def parent_of(self, cid: str) -> str:
        return self._orders[cid].parent

    def note(self, cid: str, parent: str, row: dict[str, Any]) -> None:
        legs = self._orders.setdefault(cid, _Legs(parent))
        kite_id = str(row.get("order_id") or "")
        old = legs.rows.get(kite_id)
        if old is None or int(row.get("filled_quantity") or 0) >= int(
            old.get("filled_quantity") or 0
        ):
            legs.rows[kite_id] = row

    def needs_book(self, cid: str, quantity: int) -> bool:
        """True when every seen leg has ended, they carry less than ``quantity`` and the
        book has not been read for the missing legs yet."""
        legs = self._orders[cid]
        return (
            not legs.book_read
            and _all_ended(legs.rows.values())
            and _placed(legs.rows.values()) < quantity
        )

    def book_read(self, cid: str) -> None:
        self._orders[cid].book_read = True

    def aggregate(self, cid: str, quantity: int) -> dict[str, Any]:
        """One order row for the client order, summed over its legs."""
        legs = self._orders[cid]
        rows = list(legs.rows.values())
        filled = sum(int(r.get("filled_quantity") or 0) for r in rows)
        newest = max(rows, key=lambda r: str(r.get("exchange_update_timestamp") or ""))
        status, message = _status(rows, filled, quantity)
        return {
            **newest,
            "order_id": legs.parent,
            "status": status,
            "status_message": message,
            "quantity": quantity,
            "filled_quantity": filled,
            "leg_order_ids": sorted(legs.rows),
        }


def _all_ended(rows: Any) -> bool:
    return all(str(r.get("status") or "").upper() in _TERMINAL for r in rows)


def _placed(rows: Any) -> int:
    return sum(int(r.get("quantity") or 0) for r in rows)


def _status(rows: list[dict[str, Any]], filled: int, quantity: int) -> tuple[str, str | None]:
    """The client order's Kite status word over its legs, and a message when it ended short."""
    words = [str(r.get("status") or "").upper() for r in rows]
    if not _all_ended(rows):
        if "TRIGGER PENDING" in words:
            return "TRIGGER PENDING", None
        working = [w for w in words if w not in _TERMINAL]
        return ("OPEN" if filled or "OPEN" in working else working[0]), None
    if filled >= quantity:
        return "COMPLETE", None
    placed = _placed(rows)
    if placed < quantity:
        return "REJECTED", (
            f"autoslice: {quantity - placed} of {quantity} never placed (a leg Zerodha "
            f"refused); {filled} filled over {len(rows)} legs"
        )
    refused = [r for r in rows if str(r.get("status")).upper() == "REJECTED"]
    if refused:
        return "REJECTED", str(refused[0].get("status_message") or "a leg was rejected")
    return "CANCELLED", None
