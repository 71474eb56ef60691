"""``alphapanda history fetch|list``: Kite candle history into the candle store.

``fetch SYMBOL... --interval I --from D --to D [--continuous] [--oi]`` asks Kite for the
candles in the chunks its per-interval limits allow, at most 3 requests a second, with a
progress bar on stderr; an interrupted fetch keeps what it stored, and the same command
run again fetches only the rest. It needs a Zerodha login (``alphapanda login``).
``list`` shows what is stored. Backtests read it with ``backtest --candles``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from typing import Any

from alphapanda_tui.errors import AlphaPandaError, ConfigError, UsageError

NAME = "history"
HELP = "fetch Kite candle history into the candle store (fetch), or list it (list)"


class FetchStopped(AlphaPandaError):
    """Kite refused or the connection failed midway; what was stored is kept."""

    exit_code = 1


def configure(parser: argparse.ArgumentParser) -> None:
    from engine.market.bars import INTERVALS

    actions = parser.add_subparsers(dest="history_action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="fetch candles of one or more instruments")
    fetch.add_argument("symbols", nargs="+", metavar="SYMBOL", help="e.g. INFY or NSE:INFY")
    fetch.add_argument("--interval", required=True, choices=INTERVALS, help="Kite's interval")
    fetch.add_argument("--from", dest="first", required=True, metavar="DATE", help="YYYY-MM-DD")
    fetch.add_argument("--to", dest="last", metavar="DATE", help="YYYY-MM-DD (default: today)")
    fetch.add_argument(
        "--continuous", action="store_true", help="continuous data across futures expiries"
    )
    fetch.add_argument("--oi", action="store_true", help="include open interest")
    listing = actions.add_parser("list", help="list the stored candle series")
    listing.add_argument("--json", action="store_true", help="one JSON object per series")


def run(args: argparse.Namespace, settings: Any) -> int:
    if args.history_action == "list":
        return _list(settings, as_json=args.json)
    from alphapanda_tui.candle_history import parse_day
    from engine.clock import IST, SystemClock, ns_to_datetime

    today = ns_to_datetime(SystemClock().now_ns(), IST).date()
    first = parse_day(args.first, "--from")
    last = parse_day(args.last, "--to") if args.last else today
    if last < first:
        raise UsageError(f"--from {first} is after --to {last}")
    if last > today:
        raise UsageError(f"--to {last} is in the future (today is {today} IST)")
    settings.ensure_home()
    return asyncio.run(_fetch(settings, args, first, last, today))


async def _fetch(
    settings: Any, args: argparse.Namespace, first: date, last: date, today: date
) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from alphapanda_tui.candle_history import candle_store, instrument_keys
    from alphapanda_tui.runtime import build_registry
    from alphapanda_tui.venues.zerodha import build_session
    from engine.zerodha.history import (
        HistoryFetchFailed,
        HistoryRequest,
        fetch_history,
        history_limiter,
        plan_chunks,
    )
    from engine.zerodha.session import LoginError

    keys = instrument_keys(build_registry(settings), args.symbols)
    try:
        client = build_session(settings).client()
    except LoginError as exc:
        raise ConfigError(f"history needs a Zerodha session: {exc}") from None
    store, limiter = candle_store(settings), history_limiter()
    requests = [
        HistoryRequest(token, key, args.interval, first, last, args.continuous, args.oi)
        for token, key in keys
    ]
    total = len(plan_chunks(args.interval, first, last)) * len(requests)
    lines: list[str] = []
    with Progress(
        TextColumn(f"history {args.interval}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chunks"),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("fetch", total=total)
        for request in requests:
            try:
                result = await fetch_history(
                    client,
                    request,
                    store,
                    limiter,
                    today=today,
                    progress=lambda done: bar.advance(task, done),
                )
            except HistoryFetchFailed as exc:
                raise FetchStopped(
                    f"history fetch stopped: {exc}; the chunks before it are stored, "
                    "run the same command again to fetch the rest"
                ) from None
            lines.append(
                f"{result.symbol} {result.interval}: {result.fetched} chunks fetched, "
                f"{result.skipped} already stored, {result.candles:,} candles"
                + (f", {result.throttled} rate-limited retries" if result.throttled else "")
            )
    print("\n".join(lines))
    print(f"stored under {store.root}")
    return 0


def _list(settings: Any, *, as_json: bool) -> int:
    from alphapanda_tui.candle_history import candle_store
    from engine.clock import IST, ns_to_datetime

    store = candle_store(settings)
    series = store.list_series() if store.root.exists() else []

    def day(ts: int | None) -> str | None:
        return None if ts is None else ns_to_datetime(ts, IST).date().isoformat()

    rows: list[dict[str, Any]] = [
        {
            "symbol": s.symbol + (" (continuous)" if s.continuous else ""),
            "interval": s.interval,
            "candles": s.candles,
            "first": day(s.first_ns),
            "last": day(s.last_ns),
            "chunks_complete": s.chunks,
            "bytes": s.bytes,
        }
        for s in series
    ]
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        print(f"no candles stored under {store.root} (alphapanda history fetch ...)")
        return 0
    header = f"{'symbol':<22} {'interval':<9} {'candles':>9} {'first':<10} {'last':<10} {'size':>9}"
    print(header)
    for row in rows:
        print(
            f"{row['symbol']:<22} {row['interval']:<9} {row['candles']:>9,} "
            f"{row['first'] or '-':<10} {row['last'] or '-':<10} {row['bytes'] / 1024:>7.1f}kB",
            file=sys.stdout,
        )
    return 0
