"""Net positions per (broker, strategy, instrument), written by one atomic upsert."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.domain.records import PositionRecord
from engine.events.types import Broker
from storage.convert import position_from_row, position_values
from storage.database import transaction
from storage.models import PositionRow
from storage.repositories.base import Repository, upsert_row

_KEY = ("broker", "strategy", "instrument_token")


async def upsert_position_in(session: AsyncSession, position: PositionRecord) -> None:
    """INSERT … ON CONFLICT DO UPDATE inside the caller's transaction."""
    await upsert_row(session, PositionRow, position_values(position), _KEY)


class PositionRepo(Repository):
    """Implements ``engine.ports.PositionRepository``."""

    async def upsert_position(self, position: PositionRecord) -> None:
        async with transaction(self._sessions) as session:
            await upsert_position_in(session, position)

    async def list_positions(self, broker: Broker) -> list[PositionRecord]:
        stmt = (
            select(PositionRow)
            .where(PositionRow.broker == str(broker))
            .order_by(PositionRow.strategy, PositionRow.instrument_token)
        )
        async with self._sessions() as session:
            return [position_from_row(row) for row in (await session.scalars(stmt))]
