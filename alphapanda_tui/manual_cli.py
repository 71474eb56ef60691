"""Shared by ``order``, ``cancel``, ``modify`` and ``exit``: ask the running engine to act.

Each command leaves an audited ``request.<action>`` row (the operator as its actor) that
the engine executing orders applies through the operator's controls; the command waits
for its ``ack.<action>`` and then for the order's outcome in storage. With no engine
running here (and no cluster) nothing is stored and the command exits 2; on a terminal
it asks first unless ``--yes``, and without a terminal it requires ``--yes``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from alphapanda_tui.books_cli import money
from alphapanda_tui.errors import UsageError
from engine.domain.records import AuditRecord, OrderRecord

ACK_POLL_S = 0.02
ACK_WAIT_S = 5.0
OUTCOME_WAIT_S = 5.0
NOT_CONFIRMED_EXIT = 1
REFUSED_EXIT = 1
NO_ACK_EXIT = 3


@dataclass(frozen=True)
class Acknowledged:
    """The engine's answer to one request, and the store it was read from (still open)."""

    store: Any
    request_id: str
    detail: dict[str, Any]

    @property
    def sent(self) -> bool:
        return bool(self.detail.get("sent"))

    @property
    def error(self) -> str:
        return str(self.detail.get("error") or "refused")


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="act without asking")


def positive_amount(what: str) -> Callable[[str], Decimal]:
    """An argparse type: a positive, finite amount of rupees, ``what`` naming it in errors
    ("a price must be above 0, not -5")."""

    def parse(text: str) -> Decimal:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not value.is_finite() or value <= 0:
            raise argparse.ArgumentTypeError(f"{what} must be above 0, not {text}")
        return value

    return parse


price = positive_amount("a price")


def quantity(text: str) -> int:
    """An argparse type: a positive whole quantity."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a quantity: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a quantity must be above 0, not {value}")
    return value


def require_engine(settings: Any) -> None:
    """Exit 2 (nothing stored) when no engine can act on a request."""
    from alphapanda_tui.pid_file import running_engine_pid

    if settings.bus.backend == "kafka":
        return  # a cluster's engines run elsewhere: the acknowledgement tells
    if running_engine_pid(settings.home) is None:
        raise UsageError(
            "no engine is running: start 'alphapanda engine' or the console first; nothing sent"
        )


def confirmed(question: str, yes: bool) -> bool:
    """True when the operator agreed (``--yes``, or 'y' on a terminal)."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("not a terminal: pass --yes to act without a confirmation")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


async def send_request(settings: Any, action: str, **detail: object) -> Acknowledged | None:
    """Store the request and wait for the engine's acknowledgement (None: none came). The
    returned store stays open for the outcome; the caller closes it."""
    from alphapanda_tui.commands.control import open_store
    from alphapanda_tui.operator import operator_identity
    from engine.ids import uuid7_str
    from engine.trading_state.requests import request_record

    request_id = uuid7_str()
    store = await open_store(settings)
    now = time.time_ns()
    row = request_record(
        action,
        operator_identity(),
        now,
        request_id=request_id,
        broker=settings.broker.value,
        **detail,
    )
    await store.add_audit(row)
    ack = await _wait_for_ack(store, action, request_id, now)
    if ack is None:
        await store.aclose()
        return None
    return Acknowledged(store, request_id, dict(ack.detail))


async def _wait_for_ack(
    store: Any, action: str, request_id: str, since_ns: int
) -> AuditRecord | None:
    from engine.trading_state.requests import ACK_PREFIX

    deadline = time.monotonic() + ACK_WAIT_S
    while True:
        for row in await store.list_audit_after(since_ns, ACK_PREFIX + action, limit=200):
            if row.detail.get("request_id") == request_id:
                return row
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(ACK_POLL_S)


async def wait_for_order(
    store: Any, client_order_id: str, done: Any, wait_s: float = OUTCOME_WAIT_S
) -> OrderRecord | None:
    """The order once ``done(order)`` holds, or as last seen when the wait ends."""
    deadline = time.monotonic() + wait_s
    order = None
    while True:
        order = await store.get_order(client_order_id)
        if order is not None and done(order):
            return order
        if time.monotonic() >= deadline:
            return order
        await asyncio.sleep(ACK_POLL_S)


def no_ack(what: str) -> int:
    print(
        f"no running engine acknowledged the {what} within {ACK_WAIT_S:g} s; "
        "check 'alphapanda orders' before trying again",
        file=sys.stderr,
    )
    return NO_ACK_EXIT


def refused(ack: Acknowledged) -> int:
    print(f"refused, nothing sent: {ack.error}", file=sys.stderr)
    return REFUSED_EXIT


def order_line(order: OrderRecord) -> str:
    """``AP3x… BUY 5 NSE:INFY LIMIT @ 1,500.00 OPEN`` with the reason when there is one."""
    parts = [order.client_order_id, order.side.value, str(order.quantity), order.symbol]
    parts.append(order.order_type.value)
    if order.price is not None:
        parts.append(f"@ {money(order.price)}")
    if order.trigger_price is not None:
        parts.append(f"trigger {money(order.trigger_price)}")
    parts.append(order.status.value)
    if order.filled_quantity:
        parts.append(f"filled {order.filled_quantity} @ {money(order.average_price)}")
    if order.reason:
        parts.append(f"({order.reason})")
    return " ".join(parts)


def run_async(coroutine: Any) -> int:
    return int(asyncio.run(coroutine))
