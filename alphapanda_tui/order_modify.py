"""The orders book's ``m``: what the console needs to modify a working order.

The count of modifications already sent comes from the engine's audit log, the same
count ``alphapanda modify`` reads (``manual_requests.modifications_done``): a console
modification is recorded there as an ``ack.modify`` row, so the CLI and the console
share one count and Kite's 25-modification cap holds whichever of them modified.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from engine.domain.projection import project
from engine.domain.records import OrderRecord
from engine.events.payloads import OrderUpdate
from engine.ids import uuid7_str
from engine.trading_state.manual import MAX_MODIFICATIONS
from engine.trading_state.manual_requests import MODIFY_ACK
from screens.modify_dialog import OrderChanges

audit_log = logging.getLogger("alphapanda.audit")
NO_COUNT_HERE = (
    "this console cannot read the engine's modification count (no audit log here): "
    "use 'alphapanda modify ORDER' from a shell"
)
Notify = Callable[..., None]


class OrderModifier:
    """Counts, instrument grid and sending for one console's ``EngineHandle``."""

    def __init__(self, handle: Any, operator: str) -> None:
        self.handle = handle
        self.operator = operator

    async def modifications_done(self, client_order_id: str) -> int | None:
        """The audit log's count; None when this handle has no audit log to read."""
        count: Callable[[str], Awaitable[int | None]] | None = getattr(
            self.handle, "modifications_done", None
        )
        return None if count is None else await count(client_order_id)

    def grid(self, order: OrderUpdate) -> tuple[Decimal | None, int]:
        """The instrument's tick size (None when unknown here) and lot size."""
        registry = getattr(self.handle, "registry", None)
        instrument = registry.get_by_token(order.instrument_token) if registry else None
        if instrument is None:
            return None, 1
        return instrument.tick_size, instrument.lot_size

    async def send(self, order: OrderUpdate, changes: OrderChanges) -> str:
        """Modify through the engine's operator and count it in the audit log; returns
        what the trader is told. Raises ``ManualRequestError`` when refused (the cap)."""
        done = await self.modifications_done(order.client_order_id)
        if done is None:
            raise RuntimeError(NO_COUNT_HERE)
        record = project(OrderRecord, order, signal_id="", updated_ts=order.update_ts)
        await self.handle.controls.modify_order(
            record,
            order.client_order_id,
            modifications_done=done,
            quantity=changes.quantity,
            price=changes.price,
            trigger_price=changes.trigger_price,
            operator=self.operator,
        )
        detail: dict[str, object] = {
            "request_id": f"console:{uuid7_str()}",
            "client_order_id": order.client_order_id,
            "sent": True,
            "modification": done + 1,
            "origin": "console",
            "price": None if changes.price is None else str(changes.price),
            "trigger_price": None if changes.trigger_price is None else str(changes.trigger_price),
            "quantity": changes.quantity,
        }
        await self.handle.record_audit(MODIFY_ACK, detail, operator=self.operator)
        audit_log.info(
            "order modify requested",
            extra={"actor": self.operator, "action": "order.modify", **detail},
        )
        return (
            f"Modify sent for {order.client_order_id} "
            f"(modification {done + 1} of {MAX_MODIFICATIONS})."
        )
