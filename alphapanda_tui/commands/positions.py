"""``alphapanda positions [--json]``: open positions per strategy and instrument.

Net quantity, average price, last price, realised P&L and charges, from storage (no
engine needed); ``--all`` includes the positions closed today. A ``protection`` column
shows the stop, target and trail the engine keeps, when any position has them.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from alphapanda_tui import books_cli
from alphapanda_tui.commands.protect import describe

NAME = "positions"
HELP = "open positions per strategy (--all with closed ones, --json)"
COLUMNS = books_cli.columns(
    "strategy",
    "symbol",
    ("net", "net_quantity"),
    ("avg", "average_price"),
    ("last", "last_price"),
    ("realised", "realized_pnl"),
    "charges",
)
PROTECTION = "protection"  # the stop, target and trail the engine keeps, when any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also positions closed today")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, settings: Any) -> int:
    async def read(store: Any) -> tuple[list[Any], list[Any]]:
        protections = await store.list_protections(settings.broker)
        return await store.list_positions(settings.broker), protections

    positions, protections = asyncio.run(books_cli.read(settings, read))
    positions = _open_or_closed_today(positions) if args.all else _open(positions)
    positions.sort(key=lambda p: (p.strategy, p.symbol))
    kept = {(p.strategy, p.instrument_token): describe(p) for p in protections}
    columns = COLUMNS
    if kept:
        columns = [
            *COLUMNS,
            (PROTECTION, lambda p: kept.get((p.strategy, p.instrument_token), "-")),
        ]
    return books_cli.show(positions, columns, json_out=args.json, empty="no open positions")


def _open(positions: list[Any]) -> list[Any]:
    return [p for p in positions if p.net_quantity != 0]


def _open_or_closed_today(positions: list[Any]) -> list[Any]:
    """Open positions and those closed on the day of the newest update (the day, as the
    other books read it): the store keeps every position ever held, so ``--all`` listed
    flat rows of earlier days, with their old realised P&L, beside today's."""
    if not positions:
        return []
    day = books_cli.trading_day(max(p.updated_ts for p in positions))
    return [
        p for p in positions if p.net_quantity != 0 or books_cli.trading_day(p.updated_ts) == day
    ]
