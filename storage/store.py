"""``SqlTradingStore``: the engine's storage port on SQLite or PostgreSQL.

Each repository is usable on its own; the store combines them over one engine and one
session factory so the composition root opens a single object and closes it once.
"""

from __future__ import annotations

import time
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.closing import AsyncClosing
from storage.database import create_engine_for, session_factory
from storage.migrate import current_async, head_revision, upgrade_async
from storage.repositories import (
    AlertRepo,
    AuditRepo,
    FillRepo,
    InstrumentRepo,
    OrderRepo,
    PositionRepo,
    ProcessedEventRepo,
    ProtectionRepo,
    SnapshotRepo,
    StrategyRepo,
    TradingStateRepo,
)
from storage.repositories.base import NowNs


class SqlTradingStore(
    AsyncClosing,
    InstrumentRepo,
    OrderRepo,
    FillRepo,
    PositionRepo,
    SnapshotRepo,
    AlertRepo,
    TradingStateRepo,
    StrategyRepo,
    ProcessedEventRepo,
    AuditRepo,
    ProtectionRepo,
):
    """Implements ``engine.ports.TradingStore``; the schema must be migrated first."""

    def __init__(self, engine: AsyncEngine, now_ns: NowNs = time.time_ns) -> None:
        super().__init__(session_factory(engine), now_ns)
        self.engine = engine

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        now_ns: NowNs = time.time_ns,
        **engine_kw: Any,
    ) -> Self:
        """Connect to ``url`` (the schema comes from ``storage.migrate.upgrade``)."""
        engine = create_engine_for(url, echo=echo, pool_size=pool_size, **engine_kw)
        return cls(engine, now_ns)

    async def aclose(self) -> None:
        await self.engine.dispose()


async def open_store(
    url: str, *, echo: bool = False, pool_size: int = 5, now_ns: NowNs = time.time_ns
) -> SqlTradingStore:
    """The one way the app opens its database: migrate only when behind, then connect.

    Checking first means a command run beside a running engine never waits on the
    migration lock when the schema is already at head; engines that start together on
    an empty PostgreSQL database take turns on that lock (see ``storage.migrate``).
    """
    if await current_async(url) != head_revision():
        await upgrade_async(url)
    return await SqlTradingStore.open(url, echo=echo, pool_size=pool_size, now_ns=now_ns)
