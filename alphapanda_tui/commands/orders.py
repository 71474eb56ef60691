"""``alphapanda orders [--open|--rejected] [--json]``: the day's order book, with reasons.

Every order of the day (strategies' and manual ones), oldest first; the reason column
says why an order was rejected or cancelled. Read from storage: no engine needed.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from alphapanda_tui import books_cli

NAME = "orders"
HELP = "the day's orders with their status and reason (--open, --rejected, --all, --json)"
COLUMNS: list[books_cli.Column] = [
    ("time", lambda o: books_cli.clock_time(o.created_ts)),
    ("order", lambda o: o.client_order_id),
    ("strategy", lambda o: o.strategy),
    ("side", lambda o: o.side),
    ("qty", lambda o: o.quantity),
    ("symbol", lambda o: o.symbol),
    ("type", lambda o: o.order_type),
    ("product", lambda o: o.product),
    ("price", lambda o: o.price),
    ("trigger", lambda o: o.trigger_price),
    ("status", lambda o: o.status),
    ("filled", lambda o: o.filled_quantity),
    ("avg", lambda o: o.average_price),
    ("reason", lambda o: o.reason),
]


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="only working orders")
    which.add_argument("--rejected", action="store_true", help="only rejected orders")
    parser.add_argument("--all", action="store_true", help="every stored order, not only the day's")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, settings: Any) -> int:
    orders = asyncio.run(stored_orders(settings, every_day=args.all))
    if args.open:
        orders = [o for o in orders if o.status.is_working]
    elif args.rejected:
        orders = [o for o in orders if o.status.value == "REJECTED"]
    return books_cli.show(orders, COLUMNS, json_out=args.json, empty="no orders today")


async def stored_orders(settings: Any, *, every_day: bool) -> list[Any]:
    """The day's orders (every stored one with ``every_day``), oldest first."""

    async def read(store: Any) -> list[Any]:
        return await store.list_orders(settings.broker, limit=100_000)

    orders = await books_cli.read(settings, read)
    if every_day:
        return sorted(orders, key=lambda o: o.created_ts)
    return books_cli.of_latest_day(orders, lambda o: o.created_ts)
