"""The CLI's manual order requests (order, cancel, modify, exit), applied by the engine.

``alphapanda order`` and its siblings leave a ``request.<action>`` audit row as ``kill``
does; the engine process that executes orders applies it through the operator's controls
(``TradingOperator``) and acknowledges with ``ack.<action>``: the client order id it
sent, or why nothing was sent. Risk's verdict on a manual order arrives later, as the
order's stored status or, when risk refuses it, as an ``outcome.order`` row
(``ManualOutcomes``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Protocol

import msgspec

from engine.domain.projection import field_names
from engine.domain.records import AuditRecord, OrderRecord
from engine.trading_state.manual import ManualRequestError, OrderTicket
from engine.trading_state.operator import ProtectionLevels, TradingOperator

MANUAL_ACTIONS = ("order", "cancel", "modify", "exit", "protect")
# a ``protect`` request's levels: the names of ``ProtectionLevels``
LEVEL_FIELDS = field_names(ProtectionLevels)
MODIFY_ACK = "ack.modify"
MODIFY_SCAN_LIMIT = 1_000  # rows per page of the audit scan


class ManualRequestStore(Protocol):
    """What applying a manual request reads: the order, and its past modifications."""

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def list_audit_after(
        self, after_ts: int, action_prefix: str, limit: int = 50
    ) -> list[AuditRecord]: ...


async def modifications_done(store: ManualRequestStore, client_order_id: str) -> int:
    """How many modifications of the order were sent: the acknowledged ``modify`` requests
    in the audit log (persisted, so the count survives a restart)."""
    sent: set[str] = set()  # request ids: a page boundary may repeat a row
    after = 0
    while True:
        rows = await store.list_audit_after(after, MODIFY_ACK, limit=MODIFY_SCAN_LIMIT)
        sent.update(
            str(row.detail.get("request_id"))
            for row in rows
            if row.detail.get("client_order_id") == client_order_id and row.detail.get("sent")
        )
        if len(rows) < MODIFY_SCAN_LIMIT:
            return len(sent)
        # oldest first: the next page starts at the last row's time (its rows again), or
        # past it when a whole page shares one time (no progress otherwise)
        last = rows[-1].audit_ts
        after = last - 1 if last - 1 > after else last


async def apply_manual_request(
    action: str,
    row: AuditRecord,
    *,
    request_id: str,
    controls: TradingOperator,
    store: ManualRequestStore,
) -> dict[str, object]:
    """Carry out one request; the acknowledgement's detail (``sent`` and what, or ``error``).

    A request that cannot be carried out (bad input, unknown order, the cap reached) is
    answered in words, never raised: the CLI is waiting for it.
    """
    detail = row.detail
    try:
        if action == "order":
            ticket = msgspec.convert(detail.get("ticket"), OrderTicket, strict=False)
            coid = await controls.place_order(ticket, request_id=request_id, operator=row.actor)
            return {"sent": True, "client_order_id": coid}
        if action == "exit":
            symbol, strategy = _text(detail.get("symbol")), _text(detail.get("strategy"))
            await controls.exit_positions(
                symbol=symbol,
                strategy=strategy,
                limit_price=_decimal(detail.get("price")),
                operator=row.actor,
            )
            return {"sent": True, "symbol": symbol, "strategy": strategy}
        if action == "protect":
            return await _protect(detail, controls, operator=row.actor)
        coid = str(detail.get("client_order_id") or "")
        order = await store.get_order(coid) if coid else None
        if action == "cancel":
            await controls.cancel_order(order, coid, operator=row.actor)
            return {"sent": True, "client_order_id": coid}
        if action == "modify":
            done = await modifications_done(store, coid)
            await controls.modify_order(
                order,
                coid,
                modifications_done=done,
                quantity=_int(detail.get("quantity")),
                price=_decimal(detail.get("price")),
                trigger_price=_decimal(detail.get("trigger_price")),
                operator=row.actor,
            )
            return {"sent": True, "client_order_id": coid, "modification": done + 1}
        return {"sent": False, "error": f"unknown request {action!r}"}
    except (ManualRequestError, msgspec.ValidationError, ValueError, InvalidOperation) as exc:
        return {"sent": False, "error": str(exc)}


async def _protect(
    detail: dict[str, object], controls: TradingOperator, *, operator: str
) -> dict[str, object]:
    """Hand a position's stop, target and trail (or their removal) to the protection
    service; it checks them against the position and the tick size."""
    strategy = _text(detail.get("strategy"))
    token = _int(detail.get("instrument_token"))
    if strategy is None or token is None:
        raise ManualRequestError("protect needs the position's strategy and instrument")
    clear = bool(detail.get("clear"))
    levels = None
    if not clear:
        levels = ProtectionLevels(**{name: _decimal(detail.get(name)) for name in LEVEL_FIELDS})
    await controls.protect(
        strategy=strategy, instrument_token=token, levels=levels, operator=operator
    )
    return {"sent": True, "strategy": strategy, "instrument_token": token, "clear": clear}


def _text(value: object) -> str | None:
    return str(value) if value else None


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))
