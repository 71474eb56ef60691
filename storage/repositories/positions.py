"""Net positions per (broker, strategy, instrument), written by one atomic upsert."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.domain.records import PositionRecord
from engine.events.types import Broker
from storage.convert import record_values, row_reader
from storage.models import PositionRow
from storage.repositories.base import Repository, broker_rows, upsert_row

_KEY = ("broker", "strategy", "instrument_token")


async def upsert_position_in(session: AsyncSession, position: PositionRecord) -> None:
    """INSERT … ON CONFLICT DO UPDATE inside the caller's transaction."""
    await upsert_row(session, PositionRow, record_values(position), _KEY)


class PositionRepo(Repository):
    """Implements ``engine.ports.PositionRepository``."""

    async def upsert_position(self, position: PositionRecord) -> None:
        await self._upsert(PositionRow, record_values(position), _KEY)

    async def list_positions(self, broker: Broker) -> list[PositionRecord]:
        stmt = broker_rows(PositionRow, broker, PositionRow.strategy, PositionRow.instrument_token)
        return await self._all(stmt, row_reader(PositionRecord))
