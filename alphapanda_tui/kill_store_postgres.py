"""The kill request on PostgreSQL through asyncpg alone (no SQLAlchemy, no alembic).

The same SQL as ``alphapanda_tui.kill_store`` for SQLite; the JSON detail is passed as
text, which a ``json`` column keeps verbatim, so the row equals the one SQLAlchemy writes.
Each call runs on a private event loop: the caller stays a plain, synchronous script.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any, TypeVar

from alphapanda_tui.kill_settings import NotCertain
from alphapanda_tui.kill_store import (
    ACK_QUERY_LIMIT,
    AuditLine,
    StateRow,
    _audit_params,
    _state_params,
    audit_line,
)

CONNECT_TIMEOUT_S = 10.0
T = TypeVar("T")

UPSERT_STATE = (
    "INSERT INTO trading_state (broker, scope, mode, reason, operator, changed_ts) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (broker, scope) DO UPDATE SET "
    "mode = excluded.mode, reason = excluded.reason, operator = excluded.operator, "
    "changed_ts = excluded.changed_ts"
)
INSERT_AUDIT = "INSERT INTO audit_log (audit_ts, actor, action, detail) VALUES ($1, $2, $3, $4)"
SELECT_AUDIT = (
    "SELECT audit_ts, actor, action, detail FROM audit_log "
    "WHERE audit_ts > $1 AND action LIKE $2 || '%' ORDER BY audit_ts, id LIMIT $3"
)


class PostgresKillStore:
    """One asyncpg connection, driven from synchronous code."""

    def __init__(self, loop: asyncio.AbstractEventLoop, connection: Any) -> None:
        self._loop = loop
        self._connection = connection

    @classmethod
    def open(cls, params: dict[str, Any], head: str) -> PostgresKillStore:
        import asyncpg

        loop = asyncio.new_event_loop()
        try:
            connection = loop.run_until_complete(
                asyncpg.connect(**params, timeout=CONNECT_TIMEOUT_S)
            )
        except Exception as exc:  # the full path explains a refused connection in its words
            loop.close()
            raise NotCertain("cannot connect") from exc
        store = cls(loop, connection)
        try:
            store._require_revision(head)
        except BaseException:
            store.close()
            raise
        return store

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(work)

    def _require_revision(self, head: str) -> None:
        try:
            rows = self._run(self._connection.fetch("SELECT version_num FROM alembic_version"))
        except Exception as exc:
            raise NotCertain("no schema version") from exc
        if [tuple(row) for row in rows] != [(head,)]:
            raise NotCertain("the schema is not at the head revision")

    def write_request(self, state: StateRow, audit: AuditLine) -> None:
        self._run(self._write(state, audit))

    async def _write(self, state: StateRow, audit: AuditLine) -> None:
        """``NotCertain`` when nothing was stored; a failed COMMIT itself propagates."""
        transaction = self._connection.transaction()
        try:
            await transaction.start()
            await self._connection.execute(UPSERT_STATE, *_state_params(state))
            await self._connection.execute(INSERT_AUDIT, *_audit_params(audit))
        except Exception as exc:
            with suppress(Exception):  # not started, or the connection is gone: nothing held
                await transaction.rollback()
            raise NotCertain("the request was not stored") from exc
        await transaction.commit()

    def audit_after(self, after_ts: int, action_prefix: str) -> list[AuditLine]:
        rows = self._run(
            self._connection.fetch(SELECT_AUDIT, after_ts, action_prefix, ACK_QUERY_LIMIT)
        )
        return [audit_line(*row) for row in rows]

    def close(self) -> None:
        try:
            self._run(self._connection.close(timeout=2))
        except Exception:  # closing is best effort: the rows are committed or never were
            self._connection.terminate()
        finally:
            self._loop.close()
