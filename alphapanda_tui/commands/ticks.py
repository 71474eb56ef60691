"""``alphapanda ticks list|export|prune|import``: the recorded days of the tick store.

The store is the one of the market these settings trade on (``alphapanda_tui.tick_store``:
the real market's in live mode or on the Kite feed, else the simulated market's). Tables
go to stdout (``--json`` for one object); progress and refused rows go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from alphapanda_tui.errors import UsageError

NAME = "ticks"
HELP = "list, export, import and prune recorded tick days"
SETUP_LOGGING = False
_REFUSED_SHOWN = 20  # refused rows printed before "... and N more"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="recorded days: ticks, instruments, size, span")
    listing.add_argument("--json", action="store_true", help="one JSON object")
    export = actions.add_parser("export", help="one day to CSV (.gz: gzipped)")
    export.add_argument("day", help="YYYY-MM-DD")
    export.add_argument("out", type=Path, help="CSV file to write (ending .gz: gzipped)")
    export.add_argument(
        "--symbol", action="append", help="only this instrument, INFY or NSE:INFY (repeatable)"
    )
    prune = actions.add_parser("prune", help="delete days past retention (or --day)")
    prune.add_argument("--day", action="append", help="delete this day instead (repeatable)")
    prune.add_argument("--yes", action="store_true", help="do not ask")
    load = actions.add_parser("import", help="a CSV or CSV.gz of ticks into the store")
    load.add_argument("file", type=Path)
    load.add_argument("--skip-bad", action="store_true", help="import the good rows, list the bad")


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.tick_store import ticks_root

    root = ticks_root(settings)
    action = {"list": _list, "export": _export, "prune": _prune, "import": _import}[args.action]
    return action(args, settings, root)


def _list(args: argparse.Namespace, settings: Any, root: Path) -> int:
    from storage.ticks.reader import list_days

    days = list_days(root)
    if args.json:
        print(json.dumps({"root": str(root), "days": [_summary_json(day) for day in days]}))
        return 0
    from rich.console import Console
    from rich.table import Table

    print(f"tick store: {root}")  # plain: a long path must not wrap
    if not days:
        print("no recorded days")
        return 0
    table = Table("day", "ticks", "instruments", "size", "first (IST)", "last (IST)")
    for column in table.columns[1:4]:
        column.justify = "right"
    for day in days:
        table.add_row(
            day.day.isoformat(),
            f"{day.ticks:,}",
            str(day.instruments),
            _size(day.bytes),
            _time(day.first_ts),
            _time(day.last_ts),
        )
    Console().print(table)
    return 0


def _summary_json(summary: Any) -> dict[str, Any]:
    from storage.ticks.export import iso_ist

    return {
        "day": summary.day.isoformat(),
        "ticks": summary.ticks,
        "instruments": summary.instruments,
        "bytes": summary.bytes,
        "first": iso_ist(summary.first_ts) if summary.first_ts is not None else None,
        "last": iso_ist(summary.last_ts) if summary.last_ts is not None else None,
    }


def _size(count: int) -> str:
    if count < 1024:
        return f"{count:,} B"
    size = float(count)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:,.1f} {unit}"


def _time(ts_ns: int | None) -> str:
    from storage.ticks.export import iso_ist

    return "" if ts_ns is None else iso_ist(ts_ns)[11:19]


def _recorded_day(root: Path, text: str) -> date:
    from storage.ticks.layout import stored_days

    days = stored_days(root)
    listing = ", ".join(day.isoformat() for day in days) or "none"
    try:
        wanted = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"day {text!r} is not YYYY-MM-DD; recorded days: {listing}") from None
    if wanted not in days:
        raise UsageError(f"no ticks recorded on {text} under {root}; recorded days: {listing}")
    return wanted


def _export(args: argparse.Namespace, settings: Any, root: Path) -> int:
    from storage.ticks.export import write_csv
    from storage.ticks.reader import iter_day_ticks

    day = _recorded_day(root, args.day)
    if not args.out.parent.is_dir():
        raise UsageError(f"no such directory: {args.out.parent}")
    rows = write_csv(iter_day_ticks(root, day, _recorded_symbols(settings, args.symbol)), args.out)
    print(f"exported {rows:,} ticks of {day.isoformat()} to {args.out}")
    return 0


def _recorded_symbols(settings: Any, symbols: list[str] | None) -> list[str] | None:
    """``--symbol`` values as the store records them ("tcs" -> "NSE:TCS"): a bare or
    mistyped name would otherwise match nothing and export an empty day without a word."""
    if symbols is None:
        return None
    from alphapanda_tui.candle_history import instrument_keys
    from alphapanda_tui.runtime import build_registry

    return [key for _token, key in instrument_keys(build_registry(settings), symbols)]


def _prune(args: argparse.Namespace, settings: Any, root: Path) -> int:
    from storage.ticks.layout import ist_day
    from storage.ticks.retention import DayInUse, expired_days, prune

    if args.day:
        days = sorted({_recorded_day(root, text) for text in args.day})
    else:
        keep = settings.ticks.retention_days
        today = ist_day(_now_ns())
        days = expired_days(root, retention_days=keep, today=today)
    if not days:
        print(f"nothing to prune under {root}")
        return 0
    names = ", ".join(day.isoformat() for day in days)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"would delete {names}: pass --yes to confirm without a terminal")
        answer = input(f"delete {len(days)} recorded day(s) ({names})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    try:
        prune(root, days)
    except DayInUse as exc:
        raise UsageError(f"{exc}; stop it first, nothing deleted") from None
    print(f"deleted {names}")
    return 0


def _now_ns() -> int:
    from engine.clock import SystemClock

    return SystemClock().now_ns()


def _import(args: argparse.Namespace, settings: Any, root: Path) -> int:
    from alphapanda_tui.runtime import build_registry
    from engine.market.feeds.replay import ReplayFormatError
    from storage.ticks.importer import ImportRefused, import_csv

    if not args.file.is_file():
        raise UsageError(f"tick file not found: {args.file}")
    registry = build_registry(settings)
    try:
        with _Progress(args.file) as advance:
            result = import_csv(
                args.file,
                root,
                registry,
                price_band_pct=settings.feed.price_band_pct,
                skip_bad=args.skip_bad,
                on_progress=advance,
            )
    except ReplayFormatError as exc:
        raise UsageError(str(exc)) from None
    except ImportRefused as exc:
        _print_refused(exc.rejected)
        raise UsageError(f"{args.file}: {exc}") from None
    _print_refused(result.rejected)
    days = ", ".join(day.isoformat() for day in result.days)
    print(f"imported {result.ticks:,} ticks into {days or 'no day'} under {root}")
    return 0


def _print_refused(rows: tuple[Any, ...]) -> None:
    for row in rows[:_REFUSED_SHOWN]:
        print(f"refused {row.error}", file=sys.stderr)
    if len(rows) > _REFUSED_SHOWN:
        print(f"... and {len(rows) - _REFUSED_SHOWN:,} more refused rows", file=sys.stderr)


class _Progress:
    """Ticks imported so far, on stderr when it is a terminal."""

    def __init__(self, source: Path) -> None:
        self._label = f"import {source.name}"
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> Any:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn(self._label),
                TextColumn("{task.completed:,} ticks"),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=None)
        return self._advance

    def _advance(self, ticks: int) -> None:
        self._done += ticks
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
