"""Translation between engine orders and Kite's order rows, statuses, times and errors.

Kite speaks strings: statuses such as ``TRIGGER PENDING``, naive Asia/Kolkata times,
and exceptions named by class. Everything that reads them goes through here, so the
adapter, the update stream and reconciliation agree on what an order row means.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from engine.clock import IST, datetime_to_ns
from engine.events.payloads import OrderIntent
from engine.events.types import OrderStatus, OrderType

_WORKING = {"OPEN": OrderStatus.OPEN, "TRIGGER PENDING": OrderStatus.TRIGGER_PENDING}
_TERMINAL = {
    "COMPLETE": OrderStatus.FILLED,
    "REJECTED": OrderStatus.REJECTED,
    "CANCELLED": OrderStatus.CANCELLED,
}
NEEDS_MARKET_PROTECTION = (OrderType.MARKET, OrderType.SL_M)


class KiteFailure(StrEnum):
    """What a failed Kite call means for the order it carried."""

    REJECTED = "rejected"  # Kite refused it: the order does not exist
    THROTTLED = "throttled"  # 429: refused before the OMS; back off
    UNKNOWN = "unknown"  # no answer: the order may or may not exist
    TOKEN = "token"  # the session is dead: stop sending


# Kite changing an order it already works: the order keeps its place in life meanwhile.
# ``MODIFIED`` is the history row between MODIFY PENDING and the order's OPEN again.
_IN_CHANGE = frozenset(
    {"MODIFY VALIDATION PENDING", "MODIFY PENDING", "MODIFIED", "CANCEL PENDING"}
)
UPDATE = "UPDATE"  # a postback's word for "a modify or a partial fill": read its fields
_KEEPS = (OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING, OrderStatus.PARTIALLY_FILLED)


def map_status(
    kite_status: str | None,
    filled: int = 0,
    quantity: int = 0,
    last: OrderStatus | None = None,
) -> OrderStatus:
    """Kite's status string as the engine's ``OrderStatus``.

    Partial fills come from ``filled_quantity`` (Kite keeps ``OPEN`` until done). Modify
    and cancel in progress keep ``last`` (OPEN or TRIGGER PENDING: the order still
    works), and an ``UPDATE`` postback says nothing by its word, so it is read by its
    fields; the other transient states (``OPEN PENDING``, ...) mean submitted.
    """
    status = (kite_status or "").strip().upper()
    if status in _TERMINAL:
        return _TERMINAL[status]
    if 0 < filled < quantity or (filled > 0 and not quantity):
        return OrderStatus.PARTIALLY_FILLED
    if status == UPDATE and quantity and filled >= quantity:
        return OrderStatus.FILLED
    if status in _IN_CHANGE or status == UPDATE:
        return last if last in _KEEPS else OrderStatus.OPEN
    return _WORKING.get(status, OrderStatus.SUBMITTED)


def kite_time_ns(value: Any) -> int:
    """Kite's naive local time (datetime or "YYYY-MM-DD HH:MM:SS") as UTC ns; 0 if absent.

    Kite times are Asia/Kolkata wall-clock times without a zone, never UTC.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=IST)
        return datetime_to_ns(moment)
    if isinstance(value, str) and len(value) >= 19:
        try:
            return datetime_to_ns(datetime.fromisoformat(value[:19]).replace(tzinfo=IST))
        except ValueError:
            return 0
    return 0


def decimal_or_none(value: Any) -> Decimal | None:
    """A Kite number (float or string) as Decimal via its text, so 1500.05 stays 1500.05."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def split_symbol(symbol: str) -> tuple[str, str]:
    """``"NSE:INFY"`` as ``("NSE", "INFY")``."""
    exchange, sep, tradingsymbol = symbol.partition(":")
    if not sep or not exchange or not tradingsymbol:
        raise ValueError(f"symbol {symbol!r} is not EXCHANGE:TRADINGSYMBOL")
    return exchange, tradingsymbol


def place_params(intent: OrderIntent, *, variety: str, market_protection: int) -> dict[str, Any]:
    """Keyword arguments of ``KiteConnect.place_order`` for an intent; the id rides in ``tag``.

    MARKET and SL-M orders carry ``market_protection`` (mandatory since 2026-04-01).
    """
    exchange, tradingsymbol = split_symbol(intent.symbol)
    params: dict[str, Any] = {
        "variety": variety,
        "exchange": exchange,
        "tradingsymbol": tradingsymbol,
        "transaction_type": intent.side.value,
        "quantity": intent.quantity,
        "product": intent.product.value,
        "order_type": intent.order_type.value,
        "validity": intent.validity.value,
        "tag": intent.client_order_id,
    }
    if intent.order_type in (OrderType.LIMIT, OrderType.SL):
        params["price"] = intent.price
    if intent.order_type in (OrderType.SL, OrderType.SL_M):
        params["trigger_price"] = intent.trigger_price
    if intent.order_type in NEEDS_MARKET_PROTECTION:
        params["market_protection"] = market_protection
    return params


def row_tag(row: dict[str, Any]) -> str | None:
    """The client order id an order row carries: its ``tag``, and nothing else.

    ``tags`` also holds what Kite adds by itself (``mktp``, ``mktp:2.00`` for market
    protection, ``autoslice``), so an untagged order placed outside AlphaPanda must not
    be read as one of ours with an odd id.
    """
    tag = row.get("tag")
    return str(tag) if tag else None


def kite_tags(row: dict[str, Any]) -> list[str]:
    """The row's ``tags`` other than its client order id: information, never an id."""
    own = row.get("tag")
    return [str(t) for t in row.get("tags") or [] if t and t != own]


_NO_ANSWER = {"Timeout", "ReadTimeout", "ConnectTimeout", "ConnectionError", "TimeoutError"}


def classify_failure(exc: BaseException) -> KiteFailure:
    """Read a failed call: was the order refused, throttled, maybe placed, or is the token dead?

    Kite exceptions are matched by class name, as the client maps ``error_type`` by name.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    code = getattr(exc, "code", None)
    if "TokenException" in names:
        return KiteFailure.TOKEN
    if "NetworkException" in names and code == 429:
        return KiteFailure.THROTTLED
    if names & _NO_ANSWER:
        return KiteFailure.UNKNOWN
    if "NetworkException" in names or ("KiteException" in names and (code or 0) >= 500):
        return KiteFailure.UNKNOWN  # a gateway error: the OMS may have taken the order
    if "KiteException" in names:
        return KiteFailure.REJECTED
    return KiteFailure.UNKNOWN
