"""What every repository shares: the session factory, the clock, dialect-aware inserts,
and the few shapes every method takes (read rows as records, insert, upsert)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from engine.events.types import Broker
from storage.database import SessionFactory, transaction

NowNs = Callable[[], int]
T = TypeVar("T")


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


async def upsert_row(
    session: AsyncSession, model: type[Any], values: dict[str, Any], key: tuple[str, ...]
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE every other column, in the caller's transaction."""
    stmt = upsert_insert(session, model).values(**values)
    updated = {column: stmt.excluded[column] for column in values if column not in key}
    await session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=updated))


def broker_rows(model: Any, broker: Broker, *order_by: Any) -> Select[Any]:
    """Every row of ``broker`` in ``model``'s table, in the given order."""
    return select(model).where(model.broker == str(broker)).order_by(*order_by)


class Repository:
    """Holds the session factory and the clock that stamps bookkeeping rows."""

    def __init__(self, sessions: SessionFactory, now_ns: NowNs = time.time_ns) -> None:
        self._sessions = sessions
        self._now_ns = now_ns

    async def _all(self, stmt: Select[Any], convert: Callable[[Any], T]) -> list[T]:
        """Every row ``stmt`` selects, converted while its session is open."""
        async with self._sessions() as session:
            return [convert(row) for row in await session.scalars(stmt)]

    async def _first(self, stmt: Select[Any], convert: Callable[[Any], T]) -> T | None:
        """The first row ``stmt`` selects, converted; None when there is none."""
        async with self._sessions() as session:
            row = (await session.scalars(stmt)).first()
            return convert(row) if row is not None else None

    async def _insert(self, model: type[Any], values: dict[str, Any]) -> None:
        """One row appended, in its own transaction."""
        async with transaction(self._sessions) as session:
            await session.execute(insert(model).values(**values))

    async def _upsert(self, model: type[Any], values: dict[str, Any], key: tuple[str, ...]) -> None:
        """One row inserted or, on a conflict on ``key``, updated, in its own transaction."""
        async with transaction(self._sessions) as session:
            await upsert_row(session, model, values, key)
