"""``alphapanda instruments sync``: download today's Kite instruments dump into the database.

Live trading checks that instruments were synced today (contracts expire, tokens are
reused), so the sync records its date next to the data.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from alphapanda_tui.errors import AlphaPandaError, ConfigError, UsageError

NAME = "instruments"
HELP = "download today's Zerodha instruments dump into the database (sync)"
EXCHANGES = ("NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX")


class SyncFailed(AlphaPandaError):
    """The download or the write failed; nothing about the setup is wrong."""

    exit_code = 1


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="instruments_action", metavar="ACTION", required=True)
    sync = actions.add_parser("sync", help="download and upsert the dump of each exchange")
    sync.add_argument(
        "--exchange",
        action="append",
        metavar="EXCHANGE",
        help=f"exchange to sync, repeatable or comma-separated ({', '.join(EXCHANGES)}); "
        "default NSE",
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    exchanges = _exchanges(args.exchange)
    settings.ensure_home()
    return asyncio.run(_sync(settings, exchanges))


def _exchanges(raw: list[str] | None) -> list[str]:
    chosen = [e.strip().upper() for item in raw or ["NSE"] for e in item.split(",") if e.strip()]
    unknown = [e for e in chosen if e not in EXCHANGES]
    if unknown or not chosen:
        raise UsageError(
            f"unknown exchange {', '.join(unknown)}: choose from {', '.join(EXCHANGES)}"
        )
    return list(dict.fromkeys(chosen))


async def _sync(settings: Any, exchanges: list[str]) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from alphapanda_tui.venues.zerodha import build_session, sync_record
    from engine.clock import IST, SystemClock, ns_to_datetime
    from engine.zerodha.instruments_sync import explain_sync_failure, sync_instruments
    from engine.zerodha.session import LoginError

    try:
        client = build_session(settings).client()
    except LoginError as exc:
        raise ConfigError(str(exc)) from None
    store = await _open_store(settings)
    console = Console(stderr=True)
    try:
        with Progress(
            TextColumn("instruments " + ",".join(exchanges)),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("sync", total=None)
            result = await sync_instruments(
                client,
                store,
                exchanges,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except Exception as exc:
        raise SyncFailed(explain_sync_failure(exc)) from None
    finally:
        await store.aclose()
    today = ns_to_datetime(SystemClock().now_ns(), IST).date()
    sync_record(settings).record(today, result.per_exchange)
    counts = ", ".join(f"{exchange} {n}" for exchange, n in result.per_exchange.items())
    print(f"synced {result.written} instruments ({counts or 'none'})")
    for error in result.errors[:5]:
        print(f"skipped {error}", file=sys.stderr)
    if len(result.errors) > 5:
        print(f"skipped {len(result.errors) - 5} more bad rows", file=sys.stderr)
    return 0


async def _open_store(settings: Any) -> Any:
    from alphapanda_tui.store_opening import open_store

    return await open_store(settings)
