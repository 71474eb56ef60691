"""Orders an operator places, cancels, modifies and exits by hand.

A manual order is a ``Signal`` of the strategy ``manual`` published where strategies
publish theirs, so it meets the same pre-trade risk, outbox, last-moment kill-switch check
and venue as any other order. Its signal id derives from the operator's request id: a
request seen twice maps to one client order id, which the outbox refuses to send twice.
Cancels, modifies and exits are the execution service's existing order commands.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec

from engine.domain.projection import project
from engine.domain.records import Instrument, OrderRecord
from engine.events.payloads import OrderCommand, Signal
from engine.events.types import (
    Broker,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Product,
    Side,
    Validity,
)
from engine.ids import client_order_id

MANUAL_STRATEGY = "manual"
MANUAL_SIGNAL_PREFIX = "manual:"
# Kite refuses the 26th modification of one order; refused here before anything is sent.
MAX_MODIFICATIONS = 25
WORKING_STATUSES = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.OPEN,
        OrderStatus.TRIGGER_PENDING,
        OrderStatus.PARTIALLY_FILLED,
    }
)
_NEEDS_PRICE = (OrderType.LIMIT, OrderType.SL)
_NEEDS_TRIGGER = (OrderType.SL, OrderType.SL_M)
DEFAULT_EXCHANGE = "NSE"

InstrumentLookup = Callable[[str], Instrument | None]


class ManualRequestError(ValueError):
    """A manual request the engine refuses before anything is sent; the text says why."""


class OrderTicket(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator asked to send: the fields of an order ticket."""

    side: Side
    symbol: str
    quantity: int
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.MIS
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None


def instrument_key(symbol: str) -> str:
    """``INFY`` → ``NSE:INFY`` (the registry's key); ``NFO:...`` stays as typed."""
    text = symbol.strip().upper()
    return text if ":" in text else f"{DEFAULT_EXCHANGE}:{text}"


def ticket_problem(ticket: OrderTicket, instrument: Instrument | None) -> str | None:
    """Why the ticket cannot be an order (unknown instrument, odd lot, missing price); None
    when well formed. Tick-grid and price checks stay with execution's validation."""
    if instrument is None:
        return f"unknown instrument {ticket.symbol} (not in today's instruments)"
    if ticket.quantity <= 0:
        return f"quantity must be positive (got {ticket.quantity})"
    if instrument.lot_size > 1 and ticket.quantity % instrument.lot_size:
        return f"quantity {ticket.quantity} is not a multiple of the lot size {instrument.lot_size}"
    kind = ticket.order_type.value
    if (ticket.order_type in _NEEDS_PRICE) != (ticket.price is not None):
        return f"a {kind} order {'needs' if ticket.price is None else 'takes no'} limit price"
    if (ticket.order_type in _NEEDS_TRIGGER) != (ticket.trigger_price is not None):
        needs = ticket.trigger_price is None
        return f"a {kind} order {'needs' if needs else 'takes no'} trigger price"
    return None


def manual_signal_id(request_id: str) -> str:
    return MANUAL_SIGNAL_PREFIX + request_id


def manual_client_order_id(request_id: str) -> str:
    """The client order id execution gives the request's order (deterministic)."""
    return client_order_id(manual_signal_id(request_id))


def manual_signal(
    ticket: OrderTicket, instrument: Instrument, *, request_id: str, operator: str, ts_ns: int
) -> Signal:
    """The ticket as the signal risk judges; ``reason`` names the operator for the audit."""
    return project(
        Signal,
        ticket,  # side, quantity, type, product, validity and trigger as the ticket has them
        signal_id=manual_signal_id(request_id),
        strategy=MANUAL_STRATEGY,
        instrument_token=instrument.instrument_token,
        symbol=instrument_key(ticket.symbol),
        limit_price=ticket.price,
        signal_ts=ts_ns,
        reason=f"manual order by {operator or 'operator'}",
    )


def working_order_problem(order: OrderRecord | None, client_order_id: str) -> str | None:
    """Why ``order`` cannot be cancelled or modified now (unknown or no longer working)."""
    if order is None:
        return f"no order {client_order_id}"
    if order.status not in WORKING_STATUSES:
        return f"order {client_order_id} is {order.status.value}, not working"
    return None


def modification_problem(
    order: OrderRecord,
    done: int,
    *,
    quantity: int | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
) -> str | None:
    """Why a modify must not be sent: nothing to change, a field the order type lacks, or
    Kite's cap of ``MAX_MODIFICATIONS`` already used (``done`` so far)."""
    if quantity is None and price is None and trigger_price is None:
        return "nothing to modify: give a price, a trigger or a quantity"
    if quantity is not None and quantity <= 0:
        return f"quantity must be positive (got {quantity})"
    if price is not None and order.order_type not in _NEEDS_PRICE:
        return f"a {order.order_type.value} order has no limit price to modify"
    if trigger_price is not None and order.order_type not in _NEEDS_TRIGGER:
        return f"a {order.order_type.value} order has no trigger price to modify"
    if done >= MAX_MODIFICATIONS:
        return (
            f"order {order.client_order_id} was already modified {done} times; Kite allows "
            f"{MAX_MODIFICATIONS} modifications per order: cancel it and place a new one"
        )
    return None


def cancel_command(broker: Broker, client_order_id: str, operator: str) -> OrderCommand:
    return OrderCommand(
        action=OrderCommandAction.CANCEL,
        broker=broker,
        client_order_id=client_order_id,
        reason=f"cancelled by {operator or 'operator'}",
    )


def modify_command(
    broker: Broker,
    client_order_id: str,
    *,
    quantity: int | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
    operator: str,
) -> OrderCommand:
    return OrderCommand(
        action=OrderCommandAction.MODIFY,
        broker=broker,
        client_order_id=client_order_id,
        quantity=quantity,
        price=price,
        trigger_price=trigger_price,
        reason=f"modified by {operator or 'operator'}",
    )


def exit_command(
    broker: Broker,
    *,
    strategy: str | None,
    instrument_token: int | None,
    operator: str,
    limit_price: Decimal | None = None,
) -> OrderCommand:
    """The kill switch's square-off, narrowed to one strategy and/or instrument; no halt.
    A limit price (one instrument only: one price cannot fit two) makes it a LIMIT exit."""
    if limit_price is not None and instrument_token is None:
        raise ManualRequestError("a limit exit names one instrument")
    if strategy is None and instrument_token is None:
        what = "exit all"
    elif instrument_token is None:
        what = f"exit {strategy}"
    else:
        what = "exit position"
    return OrderCommand(
        action=OrderCommandAction.SQUARE_OFF_ALL,
        broker=broker,
        strategy=strategy,
        instrument_token=instrument_token,
        price=limit_price,
        reason=f"{what} by {operator or 'operator'}",
    )
