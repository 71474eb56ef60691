"""Opening the configured database, for every command and the console alike.

One policy (``storage.store.open_store``: migrate when behind, connect with the
configured echo and pool size) and one wording when it fails, so the console, the engine,
status, kill and instruments sync refuse an unusable database the same way: one line,
exit 2, never a password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alphapanda_tui.errors import ConfigError
from alphapanda_tui.settings import Settings

if TYPE_CHECKING:
    from storage.store import SqlTradingStore


async def open_store(settings: Settings) -> SqlTradingStore:
    """The migrated store of ``settings.database``; ``ConfigError`` when it cannot open."""
    from storage.database import describe_url
    from storage.store import open_store as open_sql_store

    database = settings.database
    url = database.resolved_url(settings.home)
    try:
        return await open_sql_store(url, echo=database.echo, pool_size=database.pool_size)
    except Exception as exc:
        raise ConfigError(f"cannot open the database {describe_url(url)}: {_reason(exc)}") from None


def refuse_a_corrupt_file(settings: Settings) -> None:
    """The embedded SQLite file must pass ``quick_check`` before a screen opens over it.

    ``open_store`` checks too, but the console opens the store inside its worker; this
    refuses first, so a corrupt file is one line and exit 2 rather than an error screen.
    """
    from storage.database import sqlite_path
    from storage.sqlite_file import DatabaseCorruptError, check_integrity

    path = sqlite_path(settings.database.resolved_url(settings.home))
    if path is None:
        return
    try:
        check_integrity(path)
    except DatabaseCorruptError as exc:
        raise ConfigError(str(exc)) from None


def _reason(exc: Exception) -> str:
    """The driver's own first line (SQLAlchemy appends its SQL and a help link)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
