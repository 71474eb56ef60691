"""Instruments keyed by ``exchange:tradingsymbol`` (exchanges reuse tokens)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from engine.domain.records import Instrument
from storage.convert import record_values, row_reader
from storage.database import transaction
from storage.models import InstrumentRow
from storage.repositories.base import Repository, upsert_insert

_KEY = ("exchange", "tradingsymbol")


class InstrumentRepo(Repository):
    """Implements ``engine.ports.InstrumentRepository``."""

    async def upsert_instruments(self, instruments: Sequence[Instrument]) -> int:
        """Insert or update every instrument in one transaction; later duplicates win."""
        rows = list({inst.key: record_values(inst) for inst in instruments}.values())
        if not rows:
            return 0
        async with transaction(self._sessions) as session:
            stmt = upsert_insert(session, InstrumentRow)
            updated = {c: stmt.excluded[c] for c in rows[0] if c not in _KEY}
            await session.execute(
                stmt.on_conflict_do_update(index_elements=list(_KEY), set_=updated), rows
            )
        return len(rows)

    async def list_instruments(self, exchange: str | None = None) -> list[Instrument]:
        stmt = select(InstrumentRow).order_by(InstrumentRow.exchange, InstrumentRow.tradingsymbol)
        if exchange is not None:
            stmt = stmt.where(InstrumentRow.exchange == exchange)
        return await self._all(stmt, row_reader(Instrument))
