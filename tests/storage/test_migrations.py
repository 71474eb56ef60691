"""Migrations build an empty database, tear it down and build it again, on both engines.

The drift test fails when a model changes without a migration (or the reverse).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from engine.domain.records import PnlSnapshotRecord
from engine.events.types import Broker
from storage.database import create_engine_for
from storage.migrate import (
    current,
    current_async,
    downgrade,
    head_revision,
    migrations_dir,
    upgrade,
    upgrade_async,
)
from storage.models import Base
from storage.store import SqlTradingStore
from tests.storage.conftest import pg_database

TABLES = {table.name for table in Base.metadata.sorted_tables}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/fresh/alphapanda.db"
        return
    with pg_database() as url:
        yield url


async def _inspect(url: str, probe: object) -> object:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(probe)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _drift(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def _tables_at(url: str) -> set[str]:
    return await _inspect(url, _tables)  # type: ignore[return-value]


def test_empty_database_upgrades_downgrades_and_upgrades_again(empty_url: str) -> None:
    assert current(empty_url) is None

    upgrade(empty_url)
    assert current(empty_url) == head_revision()
    assert asyncio.run(_tables_at(empty_url)) == TABLES

    downgrade(empty_url, "base")
    assert current(empty_url) is None
    assert asyncio.run(_tables_at(empty_url)) == set()

    upgrade(empty_url, "head")
    assert asyncio.run(_tables_at(empty_url)) == TABLES


async def test_models_and_migrations_do_not_drift(empty_url: str) -> None:
    await upgrade_async(empty_url)

    assert await current_async(empty_url) == head_revision()
    assert await _inspect(empty_url, _drift) == []


def test_migrations_ship_inside_the_package_with_one_head() -> None:
    directory = migrations_dir()

    assert (directory / "env.py").is_file()
    assert (directory / "versions" / "__init__.py").is_file()
    assert head_revision() is not None


async def _execute(url: str, sql: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(sql)
    finally:
        await engine.dispose()


async def test_a_migration_that_fails_halfway_leaves_nothing_behind(empty_url: str) -> None:
    """A migration stopped partway (here by a clash on its last table, in real life by a
    crash of the starting engine) must not leave half a schema that no start can build on."""
    last = Base.metadata.sorted_tables[-1].name
    await _execute(empty_url, f"CREATE TABLE {last} (clash INTEGER)")

    with pytest.raises(Exception, match="exists"):
        await upgrade_async(empty_url)
    assert await current_async(empty_url) is None
    assert await _tables_at(empty_url) == {last}

    await _execute(empty_url, f"DROP TABLE {last}")
    await upgrade_async(empty_url)
    assert await current_async(empty_url) == head_revision()
    assert await _tables_at(empty_url) == TABLES


def test_upgrading_a_journal_keeps_its_snapshots_and_stores_day_figures(empty_url: str) -> None:
    """0001 -> head on a database holding a snapshot: the old row reads back without day
    figures (never the overall ones as the day's), a new one with them; downgrading to
    0001 drops only the day columns."""
    upgrade(empty_url, "0001")
    asyncio.run(
        _execute(
            empty_url,
            "INSERT INTO pnl_snapshots (broker, snapshot_ts, realized_pnl, unrealized_pnl,"
            " charges, cash, equity, gross_exposure) VALUES ('paper', 1, '-2019.4', '0',"
            " '12.3', '997968.3', '997968.3', '0')",
        )
    )

    upgrade(empty_url)

    assert asyncio.run(_inspect(empty_url, _drift)) == []
    old, new = asyncio.run(_snapshots_after_upgrade(empty_url))
    assert old is not None and old.realized_pnl == Decimal("-2019.4")
    assert (old.trading_day, old.day_realized_pnl, old.day_pnl) == ("", None, None)
    assert new is not None and new.trading_day == "2026-01-06"
    assert new.day_pnl == Decimal("-250.5")

    downgrade(empty_url, "0001")
    # 0003's and 0004's
    assert asyncio.run(_tables_at(empty_url)) == TABLES - {"position_protections", "order_steps"}
    assert asyncio.run(_inspect(empty_url, _snapshot_rows)) == 2


def _snapshot_rows(connection: Connection) -> int:
    return len(connection.exec_driver_sql("SELECT id FROM pnl_snapshots").all())


async def _snapshots_after_upgrade(url: str) -> tuple[object, object]:
    """The row 0001 stored, then a snapshot with day figures stored and read back."""
    async with await SqlTradingStore.open(url) as store:
        old = await store.latest_pnl_snapshot(Broker.PAPER)
        assert old is not None
        day = {
            "trading_day": "2026-01-06",
            "day_realized_pnl": Decimal("-200"),
            "day_unrealized_pnl": Decimal("-40.5"),
            "day_charges": Decimal("10"),
        }
        fields = {name: getattr(old, name) for name in old.__struct_fields__}
        await store.add_pnl_snapshot(PnlSnapshotRecord(**{**fields, **day, "snapshot_ts": 2}))
        return old, await store.latest_pnl_snapshot(Broker.PAPER)
