"""Fills: unique per (broker, trade_id), recorded together with the position they move."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from engine.domain.records import FillRecord, PositionRecord
from engine.events.types import Broker
from engine.ports import ProcessedMark
from storage.convert import record_values, row_reader
from storage.database import transaction
from storage.models import FillRow
from storage.repositories.base import Repository, broker_rows, upsert_insert
from storage.repositories.positions import upsert_position_in
from storage.repositories.processed import mark_processed


async def insert_fill_in(session: AsyncSession, fill: FillRecord) -> bool:
    """Insert unless (broker, trade_id) exists; True when this call wrote the row.

    ON CONFLICT DO NOTHING … RETURNING decides inside the database, so two racing
    writers of one trade can never both see "new".
    """
    stmt = (
        upsert_insert(session, FillRow)
        .values(**record_values(fill))
        .on_conflict_do_nothing(index_elements=["broker", "trade_id"])
        .returning(FillRow.id)
    )
    return (await session.execute(stmt)).first() is not None


class FillRepo(Repository):
    """Implements ``engine.ports.FillRepository``."""

    async def record_fill(
        self, fill: FillRecord, position: PositionRecord, processed: ProcessedMark | None = None
    ) -> bool:
        async with transaction(self._sessions) as session:
            if not await insert_fill_in(session, fill):
                return False  # nothing was written: the duplicate leaves the position alone
            await upsert_position_in(session, position)
            await mark_processed(session, processed, self._now_ns())
        return True

    async def list_fills(self, broker: Broker) -> list[FillRecord]:
        """In journal order (the row id), never by fill time.

        Average-cost P&L depends on the order fills are applied in, and fill times can
        repeat or go backwards (a restarted simulated day, a lagging broker trade), so
        sorting by time would rebuild a different realized P&L than the live book had.
        """
        # Journal order: the order the portfolio applied them.
        return await self._all(broker_rows(FillRow, broker, FillRow.id), row_reader(FillRecord))
