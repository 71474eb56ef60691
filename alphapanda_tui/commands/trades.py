"""``alphapanda trades [--json]``: the day's fills (price, quantity, charges, order id).

Read from the fill journal in storage: no engine needed.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from alphapanda_tui import books_cli

NAME = "trades"
HELP = "the day's trades: price, quantity, charges, order id (--all, --json)"
COLUMNS = books_cli.columns(
    books_cli.time_column("fill_ts"),
    ("trade", "trade_id"),
    ("order", "client_order_id"),
    "strategy",
    "side",
    ("qty", "quantity"),
    "symbol",
    "price",
    "charges",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="every stored trade, not only the day's")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, settings: Any) -> int:
    async def read(store: Any) -> list[Any]:
        return await store.list_fills(settings.broker)

    fills = asyncio.run(books_cli.read(settings, read))
    fills = sorted(fills, key=_ts) if args.all else books_cli.of_latest_day(fills, _ts)
    return books_cli.show(fills, COLUMNS, json_out=args.json, empty="no trades today")


def _ts(fill: Any) -> int:
    return int(fill.fill_ts)
