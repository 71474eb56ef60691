"""``alphapanda positions [--json]``: open positions per strategy and instrument.

Net quantity, average price, last price, and the trading day's realised P&L and charges,
from storage (no engine needed); ``--all`` includes the positions closed that day. The
day is the latest P&L snapshot's (the day ``status`` and the console's panels show),
and each position's part of it is worked out as the console works it out after a
restart: the journal replayed through the portfolio's book. The realised P&L since the
position's first fill is there too, headed so. ``last stored`` is the price when the
position was last stored (its last fill, or the engine's start), not the market now: the
console's LTP moves with every tick. A ``protection`` column shows the stop,
target and trail the engine keeps, when any position has them.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from alphapanda_tui import books_cli
from alphapanda_tui.commands.protect import describe

NAME = "positions"
HELP = "open positions per strategy, the day's realised P&L (--all with closed ones, --json)"
COLUMNS = books_cli.columns(
    "strategy",
    "symbol",
    ("net", "net_quantity"),
    ("avg", "average_price"),
    ("last stored", "last_price"),
    ("day realised", "day_realized_pnl"),
    ("day charges", "day_charges"),
    ("realised (all days)", "realized_pnl"),
)
PROTECTION = "protection"  # the stop, target and trail the engine keeps, when any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also positions closed that day")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, settings: Any) -> int:
    async def read(store: Any) -> tuple[Any, ...]:
        broker = settings.broker
        return (
            await store.list_positions(broker),
            await store.list_fills(broker),
            await store.latest_pnl_snapshot(broker),
            await store.list_protections(broker),
        )

    stored, fills, snapshot, protections = asyncio.run(books_cli.read(settings, read))
    positions = _of_the_day(settings, stored, fills, snapshot, closed_too=args.all)
    positions.sort(key=lambda p: (p.strategy, p.symbol))
    kept = {(p.strategy, p.instrument_token): describe(p) for p in protections}
    columns = COLUMNS
    if kept:
        columns = [
            *COLUMNS,
            (PROTECTION, lambda p: kept.get((p.strategy, p.instrument_token), "-")),
        ]
    return books_cli.show(positions, columns, json_out=args.json, empty="no open positions")


def _of_the_day(
    settings: Any, stored: list[Any], fills: list[Any], snapshot: Any, *, closed_too: bool
) -> list[Any]:
    """The open positions (and with ``closed_too`` those closed that day), each with its
    part of the trading day: the snapshot's day, else the newest fill's (the store keeps
    every position ever held, with its realised P&L since the first fill)."""
    from alphapanda_tui.engine_config import calendar
    from engine.market.sessions import TradingDays
    from engine.read_model.seed import day_positions

    days = TradingDays(calendar(settings))
    positions = day_positions(settings.broker, fills, stored, snapshot, days)
    day = snapshot.trading_day if snapshot is not None else ""
    newest = max((p.updated_ts for p in positions), default=0)
    if not day and newest:
        day = days.window(newest).label

    def closed_that_day(position: Any) -> bool:
        return bool(position.updated_ts) and days.window(position.updated_ts).label == day

    return [p for p in positions if p.net_quantity or (closed_too and closed_that_day(p))]
