"""The two rows of a kill request, written without SQLAlchemy: sqlite3 or asyncpg directly.

The rows are the ones ``storage`` writes for ``save_trading_state`` and ``add_audit``
(same tables, columns and JSON text), in one transaction, so the engine's
``ControlRequestPoller`` reads them as any other request. The database is used only
when it is already at the code's Alembic head: anything else (no file yet, behind,
ahead, an unusual URL) raises ``NotCertain`` before a row is written, and the full path,
which migrates, takes over.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from alphapanda_tui.kill_settings import NotCertain

SQLITE_PREFIX = "sqlite+aiosqlite:///"
POSTGRES_SCHEME = "postgresql+asyncpg"
SQLITE_BUSY_TIMEOUT_MS = 30_000  # as storage.database: a second writer waits, never fails
ACK_QUERY_LIMIT = 200
_REVISION = re.compile(r"^revision(?:\s*:\s*[\w\[\] |]+)?\s*=\s*['\"](\w+)['\"]", re.M)
_DOWN_REVISION = re.compile(
    r"^down_revision(?:\s*:\s*[\w\[\] |]+)?\s*=\s*(?:None|['\"](\w+)['\"])\s*$", re.M
)


@dataclass(frozen=True)
class StateRow:
    """A ``trading_state`` row (``storage.convert.state_values``)."""

    broker: str
    scope: str
    mode: str
    reason: str
    operator: str
    changed_ts: int


@dataclass(frozen=True)
class AuditLine:
    """An ``audit_log`` row (``storage.convert.audit_values``); ``detail`` is JSON."""

    audit_ts: int
    actor: str
    action: str
    detail: dict[str, Any]


class KillStore(Protocol):
    """Where the request goes and where the acknowledgement comes back."""

    def write_request(self, state: StateRow, audit: AuditLine) -> None: ...

    def audit_after(self, after_ts: int, action_prefix: str) -> list[AuditLine]: ...

    def close(self) -> None: ...


def head_revision(versions: Path | None = None) -> str:
    """The Alembic head, read from the version scripts' ``revision`` lines.

    A single linear history only (what ``storage.migrate.head_revision`` would name);
    a merge, a branch or a script this cannot read raises ``NotCertain``.
    """
    versions = versions or _versions_dir()
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        if script.name == "__init__.py":
            continue
        text = script.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(revision) != 1 or len(down) != 1:
            raise NotCertain(f"cannot read the revision of {script.name}")
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    if len(heads) != 1 or not parents <= revisions:
        raise NotCertain("not one linear migration history")
    return heads.pop()


def _versions_dir() -> Path:
    from importlib.util import find_spec

    spec = find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise NotCertain("the migrations package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "versions"


def open_kill_store(url: str) -> KillStore:
    """The store of ``url``, at the head revision; ``NotCertain`` for anything else."""
    if url.startswith(SQLITE_PREFIX):
        return SqliteKillStore.open(sqlite_file(url), head_revision())
    if url.startswith(POSTGRES_SCHEME + "://"):
        from alphapanda_tui.kill_store_postgres import PostgresKillStore

        return PostgresKillStore.open(postgres_params(url), head_revision())
    raise NotCertain("a database URL the lean path does not read")


def sqlite_file(url: str) -> Path:
    """The file of a plain ``sqlite+aiosqlite:///path`` URL (no query, no escapes)."""
    path = url.removeprefix(SQLITE_PREFIX)
    if not path or path == ":memory:" or any(char in path for char in "?#%"):
        raise NotCertain("an unusual SQLite URL")
    return Path(path)


def postgres_params(url: str) -> dict[str, Any]:
    """``asyncpg.connect`` arguments as SQLAlchemy's asyncpg dialect passes them."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise NotCertain("a bad port") from None
    database = unquote(parts.path.removeprefix("/"))
    if parts.query or parts.fragment or "," in parts.netloc or not database or "/" in database:
        raise NotCertain("an unusual PostgreSQL URL")
    params = {
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "host": parts.hostname,
        "port": port,
        "database": database,
    }
    return {key: value for key, value in params.items() if value is not None}


class SqliteKillStore:
    """The embedded SQLite file, opened with the pragmas ``storage.database`` sets."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, path: Path, head: str) -> SqliteKillStore:
        from storage.sqlite_file import DatabaseCorruptError, check_integrity, prepare_private_file

        if not path.is_file() or path.stat().st_size == 0:
            raise NotCertain("no database yet: the full path creates it")
        try:
            check_integrity(path)
        except DatabaseCorruptError as exc:
            raise NotCertain("a corrupt database: the full path says so") from exc
        prepare_private_file(path)
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        connection.isolation_level = None  # transactions are begun explicitly below
        store = cls(connection)
        try:
            for pragma in (
                "journal_mode=WAL",
                "foreign_keys=ON",
                f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
                "synchronous=NORMAL",
            ):
                connection.execute(f"PRAGMA {pragma}")
            store._require_revision(head)
        except BaseException:
            connection.close()
            raise
        return store

    def _require_revision(self, head: str) -> None:
        try:
            rows = self._connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error as exc:
            raise NotCertain("no schema version") from exc
        if rows != [(head,)]:
            raise NotCertain("the schema is not at the head revision")

    def write_request(self, state: StateRow, audit: AuditLine) -> None:
        with self._transaction() as cursor:
            cursor.execute(UPSERT_STATE_SQLITE, _state_params(state))
            cursor.execute(INSERT_AUDIT_SQLITE, _audit_params(audit))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """``NotCertain`` when nothing was stored; a failed COMMIT itself propagates."""
        cursor = self._connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            yield cursor
        except sqlite3.Error as exc:
            if self._connection.in_transaction:
                cursor.execute("ROLLBACK")
            raise NotCertain("the request was not stored") from exc
        cursor.execute("COMMIT")

    def audit_after(self, after_ts: int, action_prefix: str) -> list[AuditLine]:
        rows = self._connection.execute(
            "SELECT audit_ts, actor, action, detail FROM audit_log "
            "WHERE audit_ts > ? AND action LIKE ? || '%' ORDER BY audit_ts, id LIMIT ?",
            (after_ts, action_prefix, ACK_QUERY_LIMIT),
        ).fetchall()
        return [audit_line(*row) for row in rows]

    def close(self) -> None:
        self._connection.close()


UPSERT_STATE_SQLITE = (
    "INSERT INTO trading_state (broker, scope, mode, reason, operator, changed_ts) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (broker, scope) DO UPDATE SET "
    "mode = excluded.mode, reason = excluded.reason, operator = excluded.operator, "
    "changed_ts = excluded.changed_ts"
)
INSERT_AUDIT_SQLITE = "INSERT INTO audit_log (audit_ts, actor, action, detail) VALUES (?, ?, ?, ?)"


def _state_params(state: StateRow) -> tuple[Any, ...]:
    return (state.broker, state.scope, state.mode, state.reason, state.operator, state.changed_ts)


def _audit_params(audit: AuditLine) -> tuple[Any, ...]:
    # SQLAlchemy's JSON type stores json.dumps(value) with its default separators.
    return (audit.audit_ts, audit.actor, audit.action, json.dumps(audit.detail))


def audit_line(audit_ts: int, actor: str, action: str, detail: Any) -> AuditLine:
    """A row read back; a detail that is not a JSON object reads as empty, never raises."""
    try:
        parsed = json.loads(detail) if isinstance(detail, str | bytes) else detail
    except ValueError:
        parsed = None
    return AuditLine(int(audit_ts), actor, action, parsed if isinstance(parsed, dict) else {})
