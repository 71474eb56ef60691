"""Async engines and transactions for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL (readers never block the writer), a busy timeout (a second writer waits
instead of failing with "database is locked") and foreign keys on every connection; its
file is created owner-only and passes ``PRAGMA quick_check`` before an engine is built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_file import check_integrity, prepare_private_file

SessionFactory = async_sessionmaker[AsyncSession]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL; None for in-memory databases and other engines."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def describe_url(url: str | URL) -> str:
    """``sqlite /path/db`` or ``postgresql host/db``: for progress lines, never a password."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"sqlite {parsed.database or ':memory:'}"
    return f"{backend} {parsed.host or 'localhost'}/{parsed.database}"


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _driver_opens_no_transaction(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def transactional_ddl(engine: AsyncEngine) -> AsyncEngine:
    """Make SQLite's schema changes all-or-nothing, as PostgreSQL's are.

    Python's sqlite3 driver commits before every CREATE or ALTER on its own, so a
    migration killed halfway left some tables and no version stamp, and every later
    start failed with "table already exists". Here SQLAlchemy emits the BEGIN itself
    (IMMEDIATE: two migrating processes take turns) and the driver emits none.
    """
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _driver_opens_no_transaction)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def create_engine_for(
    url: str, *, echo: bool = False, pool_size: int = 5, **kw: Any
) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            check_integrity(path)  # a corrupt file is refused before anything reads it
            prepare_private_file(path)
        engine = create_async_engine(parsed, echo=echo, **kw)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    if "poolclass" not in kw:
        kw.setdefault("pool_size", pool_size)
        kw.setdefault("pool_pre_ping", True)
    return create_async_engine(parsed, echo=echo, **kw)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions whose objects stay readable after commit (records are built from them)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    async with sessions() as session, session.begin():
        yield session
