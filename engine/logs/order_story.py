"""The life of each order in the trading channel: intent, risk verdict, sent, ack, fills, final.

Every line carries the same structured fields (symbol, side, quantity, price, status,
client order id, correlation id), so ``grep <client order id> trading.jsonl`` or the log
viewer's correlation filter tells one order's story. The correlation id of an order's
lines is its signal id: the one id known at every stage (the strategy that wished it,
risk, execution, each later fill on another tick, a restart's recovery); the client
order id derives from it.

Called once per signal, order or fill, never per tick; each function returns at once
when the trading logger is off for INFO, so a backtest without file logs pays one
level check.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from engine.domain.records import OrderRecord
from engine.events.payloads import Fill, Signal
from engine.ids import client_order_id

ORDER_LOG = logging.getLogger("alphapanda.orders")

INTENT = "intent"
VERDICT = "verdict"
SENT = "sent"
ACK = "ack"
FILL = "fill"
FINAL = "final"
STAGES: tuple[str, ...] = (INTENT, VERDICT, SENT, ACK, FILL, FINAL)


def _price(value: Decimal | None) -> str:
    return "MKT" if value is None else str(value)


def signal_story(
    stage: str,
    signal: Signal,
    *,
    status: str,
    broker: str,
    reason: str = "",
    rule: str = "",
    level: int = logging.INFO,
) -> None:
    """One line about a signal (the strategy's intent, then risk's verdict on it)."""
    if not ORDER_LOG.isEnabledFor(level):
        return
    price = signal.limit_price if signal.limit_price is not None else signal.reference_price
    coid = client_order_id(signal.signal_id)
    why = f": {reason}" if reason else ""
    ORDER_LOG.log(
        level,
        "%s %s %s %d %s @ %s [%s] %s%s",
        stage,
        status,
        signal.side.value,
        signal.quantity,
        signal.symbol,
        _price(price),
        signal.strategy,
        coid,
        why,
        extra={
            "stage": stage,
            "status": status,
            "symbol": signal.symbol,
            "side": signal.side.value,
            "quantity": signal.quantity,
            "price": None if price is None else str(price),
            "strategy": signal.strategy,
            "broker": broker,
            "client_order_id": coid,
            "correlation_id": signal.signal_id,
            "reason": reason or None,
            "rule": rule or None,
        },
    )


def order_story(
    stage: str,
    order: OrderRecord,
    *,
    fill: Fill | None = None,
    reason: str = "",
    level: int = logging.INFO,
) -> None:
    """One line about an order in execution: sent, acknowledged, a fill, its final state."""
    if not ORDER_LOG.isEnabledFor(level):
        return
    status = order.status.value
    price: Decimal | None  # None: a market order not filled yet
    if fill is not None:
        quantity, price = fill.quantity, fill.price
        what = f"{order.filled_quantity}/{order.quantity} filled"
    else:
        quantity, price = order.quantity, order.average_price or order.price
        what = ""
    why = reason or (order.reason if stage == FINAL else "")
    tail = "; ".join(part for part in (what, why) if part)
    ORDER_LOG.log(
        level,
        "%s %s %s %d %s @ %s [%s] %s%s",
        stage,
        status,
        order.side.value,
        quantity,
        order.symbol,
        _price(price),
        order.strategy,
        order.client_order_id,
        f": {tail}" if tail else "",
        extra={
            "stage": stage,
            "status": status,
            "symbol": order.symbol,
            "side": order.side.value,
            "quantity": quantity,
            "price": None if price is None else str(price),
            "order_quantity": order.quantity,
            "filled_quantity": order.filled_quantity,
            "strategy": order.strategy,
            "broker": order.broker.value,
            "client_order_id": order.client_order_id,
            "broker_order_id": order.broker_order_id,
            "correlation_id": order.signal_id,
            "trade_id": fill.trade_id if fill is not None else None,
            "reason": why or None,
        },
    )
