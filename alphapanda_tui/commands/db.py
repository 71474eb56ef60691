"""``alphapanda db``: create or migrate the database schema (upgrade, downgrade, current).

The schema ships inside the package (``migrations/``), so an installed AlphaPanda can
build an empty database or bring an old one up to date without an ``alembic.ini``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from alphapanda_tui.errors import ConfigError, UsageError

NAME = "db"
HELP = "create or migrate the database schema (upgrade, downgrade, current)"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="migrate up to REVISION (default: head)")
    up.add_argument("revision", nargs="?", default="head", metavar="REVISION")
    down = actions.add_parser("downgrade", help="migrate down to REVISION ('base' drops all)")
    down.add_argument("revision", metavar="REVISION")
    down.add_argument(
        "--yes", action="store_true", help="drop tables without asking (needed without a terminal)"
    )
    actions.add_parser("current", help="print the revision the database is at")


def database_url(settings: Any) -> str:
    """``settings.database.url``, or the embedded SQLite file under ``settings.home``.

    Works whether or not the settings model already resolved the default.
    """
    database = getattr(settings, "database", None)
    url = getattr(database, "url", None)
    if url:
        return str(url)
    resolve = getattr(database, "resolved_url", None)
    home = Path(getattr(settings, "home", Path.cwd()))
    if callable(resolve):
        return str(resolve(home))
    return f"sqlite+aiosqlite:///{home}/alphapanda.db"


def run(args: argparse.Namespace, settings: Any) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from storage import migrate
    from storage.database import describe_url, is_sqlite

    url = database_url(settings)
    where = describe_url(url)
    if is_sqlite(url) and callable(getattr(settings, "ensure_home", None)):
        settings.ensure_home()  # owner-only home before the database file appears in it
    try:
        if args.db_action == "current":
            revision = migrate.current(url)
            head = migrate.head_revision()
            state = "empty (no schema)" if revision is None else revision
            suffix = " (head)" if revision is not None and revision == head else ""
            print(f"{where}: {state}{suffix}")
            return 0
        if args.db_action == "downgrade":
            _confirm_drops(where, migrate.current(url), args.revision, assume_yes=args.yes)
        verb = "upgrading" if args.db_action == "upgrade" else "downgrading"
        print(f"{verb} {where} to {args.revision} …", end=" ", flush=True)
        getattr(migrate, args.db_action)(url, args.revision)
        print(f"done (now at {migrate.current(url) or 'base'})")
        return 0
    except CommandError as exc:
        _report_failure(args)
        raise UsageError(f"db {args.db_action}: {exc}") from None
    except (DBAPIError, OSError) as exc:
        _report_failure(args)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigError(f"cannot use the database {where}: {reason}") from None
    finally:
        sys.stdout.flush()


def _confirm_drops(where: str, current: str | None, target: str, *, assume_yes: bool) -> None:
    """Ask before a downgrade drops tables (the journal: orders, fills, audit); refuse unasked.

    Without a terminal to ask on, only ``--yes`` lets it proceed: a script must say so.
    """
    from storage.migration_drops import UnknownDowngrade, tables_dropped

    try:
        dropped = tables_dropped(current, target)
    except UnknownDowngrade:
        return  # Alembic itself refuses the revision, in one line
    if not dropped or assume_yes:
        return
    loss = f"db downgrade {target} drops {len(dropped)} tables of {where} ({', '.join(dropped)})"
    if not sys.stdin.isatty():
        raise UsageError(f"{loss}; refused without confirmation: add --yes to drop them")
    print(f"{loss} and every row in them.", file=sys.stderr)
    print("Type 'yes' to drop them: ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline().strip()
    except KeyboardInterrupt:
        answer = ""
    if answer != "yes":
        raise UsageError("db downgrade cancelled: nothing was dropped")


def _report_failure(args: argparse.Namespace) -> None:
    """End the open progress line, so the error line that follows stands on its own."""
    if args.db_action != "current":
        print("failed", flush=True)
