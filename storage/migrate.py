"""Schema migrations from code: the installed package carries its Alembic scripts.

The Alembic ``Config`` is built here (no ``alembic.ini`` needed), with the script
location set to the ``migrations`` package directory. The plain functions suit a CLI;
the ``*_async`` twins run inside an event loop (the app at start-up, async tests).
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from storage.database import create_engine_for, transactional_ddl


def migrations_dir() -> Path:
    """Where the ``migrations`` package lives, found without importing it."""
    spec = importlib.util.find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the migrations package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config for ``url`` (or an open sync ``connection``), built in code."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate ``url`` up to ``revision``; call outside a running event loop."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate ``url`` down to ``revision`` (``base`` drops everything)."""
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision ``url`` is at, or None for an empty (unmigrated) database."""
    return asyncio.run(current_async(url))


async def _on_connection(url: str, action: str, revision: str | None = None) -> str | None:
    engine = transactional_ddl(create_engine_for(url, poolclass=pool.NullPool))
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(_run_sync, action, revision)
            await connection.commit()
            return result
    finally:
        await engine.dispose()


# Any constant: engines that start together on one PostgreSQL database migrate one at a time.
_MIGRATION_LOCK_KEY = 0x414C5048  # "ALPH"


def _run_sync(connection: Connection, action: str, revision: str | None) -> str | None:
    if action == "current":
        return MigrationContext.configure(connection).get_current_revision()
    if connection.dialect.name == "postgresql":
        # Held until this transaction commits; the second engine then finds the schema at head.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
    config = alembic_config(connection=connection)
    getattr(command, action)(config, revision)
    return None


async def upgrade_async(url: str, revision: str = "head") -> None:
    await _on_connection(url, "upgrade", revision)


async def downgrade_async(url: str, revision: str) -> None:
    await _on_connection(url, "downgrade", revision)


async def current_async(url: str) -> str | None:
    return await _on_connection(url, "current")
