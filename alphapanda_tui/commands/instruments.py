"""``alphapanda instruments sync``: download today's Kite instruments dump into the database.

Live trading checks that instruments were synced today (contracts expire, tokens are
reused), so the sync records its date next to the data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path
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


def marker_path(settings: Any) -> Path:
    return Path(settings.data_dir) / "instruments_synced.json"


def record_sync(settings: Any, today: date, per_exchange: dict[str, int]) -> None:
    """Mark ``today`` (IST) as synced; the CLI and the console both record it here."""
    marker_path(settings).write_text(
        json.dumps({"synced_on": today.isoformat(), "rows": per_exchange})
    )


def synced_on(settings: Any) -> date | None:
    """The IST date of the last successful sync, for the live pre-trading checks."""
    try:
        return date.fromisoformat(json.loads(marker_path(settings).read_text())["synced_on"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


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

    from alphapanda_tui.commands.login import build_session
    from engine.clock import IST, SystemClock, ns_to_datetime
    from engine.zerodha.instruments_sync import sync_instruments
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
        raise SyncFailed(explain_failure(exc)) from None
    finally:
        await store.aclose()
    today = ns_to_datetime(SystemClock().now_ns(), IST).date()
    record_sync(settings, today, result.per_exchange)
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


def explain_failure(exc: Exception, log_in: str = "run `alphapanda login`") -> str:
    """A failed sync in words; ``log_in`` says how to get a fresh token where it is read."""
    name = type(exc).__name__
    if name == "TokenException":
        return f"Zerodha rejected the access token: {log_in}"
    if name in {"ConnectionError", "ReadTimeout", "ConnectTimeout", "NetworkException"}:
        return f"could not download the instruments dump ({name}); try again"
    return f"instruments sync failed: {name}: {str(exc).splitlines()[0] if str(exc) else ''}"
