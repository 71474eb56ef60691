"""``alphapanda orders [--open|--rejected] [--json]``: the day's order book, with reasons.

Every order of the day (strategies' and manual ones), oldest first; the reason column
says why an order was rejected or cancelled. ``--rejected`` also lists the signals
pre-trade risk refused: never sent, so not in the orders table, but kept with the rule
and the reason by risk's alert (strategies' and manual ones) and, for manual orders, the
audit log (``outcome.order``, which also names the type and product). Read from storage:
no engine needed.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from typing import Any

import msgspec

from alphapanda_tui import books_cli

NAME = "orders"
HELP = "the day's orders with their status and reason (--open, --rejected, --all, --json)"
COLUMNS = books_cli.columns(
    books_cli.time_column("created_ts", "placed"),  # the console shows the last update
    ("order", "client_order_id"),
    "strategy",
    "side",
    ("qty", "quantity"),
    "symbol",
    ("type", "order_type"),
    "product",
    "price",
    ("trigger", "trigger_price"),
    "status",
    ("filled", "filled_quantity"),
    ("avg", "average_price"),
    "reason",
)


class RiskRefusal(msgspec.Struct, frozen=True, kw_only=True):
    """A manual order risk refused, shaped as an order row (it has no client order id:
    its signal id stands in the order column)."""

    created_ts: int
    client_order_id: str
    strategy: str
    side: str | None
    quantity: int | None
    symbol: str | None
    order_type: str | None
    product: str | None
    price: Decimal | None
    trigger_price: Decimal | None
    status: str = "REJECTED"
    filled_quantity: int = 0
    average_price: Decimal | None = None
    reason: str = ""


def refusal_from_alert(alert: Any) -> RiskRefusal:
    """A refusal risk's alert kept, as a line of the book (no type or product there)."""
    return RiskRefusal(
        created_ts=alert.alert_ts,
        client_order_id=alert.signal_id,
        strategy=alert.strategy or "-",
        side=None if alert.side is None else alert.side.value,
        quantity=alert.quantity,
        symbol=alert.symbol,
        order_type=None,
        product=None,
        price=alert.price,
        trigger_price=None,
        reason=f"risk {alert.rule}: {alert.reason or alert.message}",
    )


def refusal_of(row: Any) -> RiskRefusal:
    """An ``outcome.order`` audit row as a line of the book (older rows lack the order)."""
    from engine.trading_state.manual import MANUAL_STRATEGY

    detail = row.detail

    def text(name: str) -> str | None:
        value = detail.get(name)
        return None if value is None else str(value)

    def price(name: str) -> Decimal | None:
        value = detail.get(name)
        return None if value is None else Decimal(str(value))

    quantity = detail.get("quantity")
    return RiskRefusal(
        created_ts=row.audit_ts,
        client_order_id=str(detail.get("signal_id") or "-"),
        strategy=MANUAL_STRATEGY,
        side=text("side"),
        quantity=None if quantity is None else int(str(quantity)),
        symbol=text("symbol"),
        order_type=text("order_type"),
        product=text("product"),
        price=price("price"),
        trigger_price=price("trigger_price"),
        reason=f"risk {detail.get('rule', '?')}: {detail.get('reason', '')}",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="only working orders")
    which.add_argument("--rejected", action="store_true", help="only rejected orders")
    parser.add_argument("--all", action="store_true", help="every stored order, not only the day's")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, settings: Any) -> int:
    when = "stored" if args.all else "today"
    if args.rejected:
        orders = asyncio.run(rejected_orders(settings, every_day=args.all))
        return books_cli.show(orders, COLUMNS, json_out=args.json, empty=f"no rejections {when}")
    orders = asyncio.run(stored_orders(settings, every_day=args.all))
    empty = f"no orders {when}"
    if args.open:  # "no orders today" would be false when the day's orders are all done
        empty = "no working orders"
        orders = [o for o in orders if o.status.is_working]
    return books_cli.show(orders, COLUMNS, json_out=args.json, empty=empty)


async def rejected_orders(settings: Any, *, every_day: bool) -> list[Any]:
    """Orders the venue or execution rejected, and signals risk refused (each once),
    oldest first; the day's (of the newest of them) unless ``every_day``."""
    from engine.trading_state.manual_outcomes import OUTCOME_ORDER

    async def read(store: Any) -> tuple[list[Any], list[Any], list[Any]]:
        orders = await store.list_orders(settings.broker, limit=100_000)
        alerts = await store.list_refusals(settings.broker, limit=100_000)
        manual = await store.list_audit_after(0, OUTCOME_ORDER, limit=100_000)
        return orders, alerts, manual

    orders, alerts, rows = await books_cli.read(settings, read)
    broker = settings.broker.value
    rejected: list[Any] = [o for o in orders if o.status.value == "REJECTED"]
    manual = [refusal_of(r) for r in rows if r.detail.get("broker", broker) == broker]
    told = {m.client_order_id for m in manual}  # the audit's line says more: it wins
    rejected += manual + [refusal_from_alert(a) for a in alerts if a.signal_id not in told]
    if every_day:
        return sorted(rejected, key=lambda o: o.created_ts)
    return books_cli.of_latest_day(rejected, lambda o: o.created_ts)


async def stored_orders(settings: Any, *, every_day: bool) -> list[Any]:
    """The day's orders (every stored one with ``every_day``), oldest first."""

    async def read(store: Any) -> list[Any]:
        return await store.list_orders(settings.broker, limit=100_000)

    orders = await books_cli.read(settings, read)
    if every_day:
        return sorted(orders, key=lambda o: o.created_ts)
    return books_cli.of_latest_day(orders, lambda o: o.created_ts)
