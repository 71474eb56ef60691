"""``alphapanda exit (SYMBOL [--limit P] | --strategy S | --all)``: square off by hand,
without halting.

The kill switch's square-off (market orders that only reduce), narrowed to one
instrument, one strategy, or everything; trading stays as it is. Says "flat" once the
positions are, or what is still held when the exit orders have not filled within the
wait (a closed market: they stay at the venue).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from alphapanda_tui import manual_cli
from alphapanda_tui.errors import UsageError

NAME = "exit"
HELP = "exit one position, one strategy's positions, or all (no halt)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", nargs="?", help="the instrument to exit, e.g. INFY")
    parser.add_argument("--strategy", metavar="S", help="only this strategy's positions")
    parser.add_argument("--all", action="store_true", help="every position")
    parser.add_argument(
        "--limit", type=manual_cli.price, metavar="P", help="exit SYMBOL with a LIMIT order at P"
    )
    manual_cli.add_yes(parser)


def run(args: argparse.Namespace, settings: Any) -> int:
    return manual_cli.run_async(exit_positions(args, settings))


async def exit_positions(args: argparse.Namespace, settings: Any) -> int:
    if args.all == bool(args.symbol or args.strategy):
        raise UsageError("name a SYMBOL, a --strategy, or --all (and not --all with them)")
    if args.limit is not None and not args.symbol:
        raise UsageError("--limit exits one position: name its SYMBOL")
    manual_cli.require_engine(settings)
    what = _described(args)
    how = "at market" if args.limit is None else f"with a LIMIT at {args.limit}"
    if not manual_cli.confirmed(f"Exit {what} {how}?", args.yes):
        print("nothing exited")
        return manual_cli.NOT_CONFIRMED_EXIT
    price = None if args.limit is None else str(args.limit)
    ack = await manual_cli.send_request(
        settings, "exit", symbol=args.symbol, strategy=args.strategy, price=price
    )
    if ack is None:
        return manual_cli.no_ack("exit")
    try:
        if not ack.sent:
            return manual_cli.refused(ack)
        left = await _wait_flat(ack.store, settings.broker, args)
    finally:
        await ack.store.aclose()
    if left:  # e.g. the market is closed: the exit orders wait at the venue
        held = ", ".join(f"{p.strategy} {p.symbol} {p.net_quantity:+d}" for p in left)
        print(f"exit orders sent for {what}; not flat yet: {held} (see 'alphapanda orders')")
        return 0
    print(f"exited {what}: flat")
    return 0


def _described(args: argparse.Namespace) -> str:
    if args.all:
        return "every position"
    parts = [args.symbol.upper()] if args.symbol else []
    if args.strategy:
        parts.append(f"of strategy {args.strategy}")
    return " ".join(parts) if args.symbol else f"every position of strategy {args.strategy}"


async def _wait_flat(store: Any, broker: Any, args: argparse.Namespace) -> list[Any]:
    from engine.trading_state.manual import instrument_key

    key = instrument_key(args.symbol) if args.symbol else None
    deadline = time.monotonic() + manual_cli.OUTCOME_WAIT_S
    while True:
        left = [
            p
            for p in await store.list_positions(broker)
            if p.net_quantity != 0
            and (key is None or p.symbol == key)
            and (args.strategy is None or p.strategy == args.strategy)
        ]
        if not left or time.monotonic() >= deadline:
            return left
        await asyncio.sleep(0.05)
