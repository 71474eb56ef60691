"""Storage fixtures: every repository test runs on SQLite and on the real PostgreSQL.

PostgreSQL tests use a database created for this test session (``alphapanda_t_<hex>``)
and dropped at the end, so parallel runs never share rows; each test starts from empty
tables. SQLite tests copy a file migrated once per session.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from engine.clock import ManualClock
from storage.migrate import upgrade
from storage.models import Base
from storage.store import SqlTradingStore
from tests.services import POSTGRES_URL, admin_sql, require_service

START_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


async def _admin(sql: str) -> None:
    await admin_sql(sql, POSTGRES_URL)


@contextmanager
def pg_database() -> Iterator[str]:
    """A new empty PostgreSQL database for the duration of the block."""
    require_service("postgres", "127.0.0.1", 5432)
    name = f"alphapanda_t_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_migrated_url() -> Iterator[str]:
    with pg_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _truncate_all(url: str) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "db" / "alphapanda.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_migrated_url")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_NS)


@pytest.fixture
async def store(db_url: str, clock: ManualClock) -> AsyncIterator[SqlTradingStore]:
    async with await SqlTradingStore.open(db_url, now_ns=clock.now_ns) as opened:
        yield opened
