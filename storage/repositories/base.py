"""What every repository shares: the session factory, the clock, dialect-aware inserts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import SessionFactory

NowNs = Callable[[], int]


def upsert_insert(session: AsyncSession, model: type[Any]) -> Any:
    """An INSERT that supports ON CONFLICT on this session's dialect (SQLite or PostgreSQL).

    Conflicts are resolved by the database inside one statement, so two writers racing on
    the same key never both "create" it (no check-then-act).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no ON CONFLICT insert for the {dialect} dialect")


class Repository:
    """Holds the session factory and the clock that stamps bookkeeping rows."""

    def __init__(self, sessions: SessionFactory, now_ns: NowNs = time.time_ns) -> None:
        self._sessions = sessions
        self._now_ns = now_ns


async def upsert_row(
    session: AsyncSession, model: type[Any], values: dict[str, Any], key: tuple[str, ...]
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE every other column, in the caller's transaction."""
    stmt = upsert_insert(session, model).values(**values)
    updated = {column: stmt.excluded[column] for column in values if column not in key}
    await session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=updated))
