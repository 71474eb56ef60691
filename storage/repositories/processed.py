"""The persisted dedup window: which events each consumer group already applied."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete, func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from engine.ports import ProcessedMark
from storage.database import transaction
from storage.models import ProcessedEventRow
from storage.repositories.base import Repository, upsert_insert


async def mark_processed(session: AsyncSession, mark: ProcessedMark | None, now_ns: int) -> None:
    """Record ``mark`` inside the caller's transaction, so it commits with the effect."""
    if mark is None:
        return
    group, event_id = mark
    stmt = upsert_insert(session, ProcessedEventRow).values(
        consumer_group=group, event_id=event_id, processed_ts=now_ns
    )
    await session.execute(
        stmt.on_conflict_do_nothing(index_elements=["consumer_group", "event_id"])
    )


class ProcessedEventRepo(Repository):
    """Implements ``engine.ports.ProcessedEventRepository`` (and the engine's DedupStore)."""

    async def seen(self, group: str, event_id: str) -> bool:
        stmt = select(ProcessedEventRow.id).where(
            ProcessedEventRow.consumer_group == group, ProcessedEventRow.event_id == event_id
        )
        async with self._sessions() as session:
            return (await session.execute(stmt.limit(1))).first() is not None

    async def mark(self, group: str, event_id: str) -> None:
        async with transaction(self._sessions) as session:
            await mark_processed(session, (group, event_id), self._now_ns())

    async def newest_processed_ts(self) -> int | None:
        stmt = select(func.max(ProcessedEventRow.processed_ts))
        async with self._sessions() as session:
            newest = (await session.execute(stmt)).scalar()
            return None if newest is None else int(newest)

    async def prune(self, keep_after_ts: int) -> int:
        stmt = delete(ProcessedEventRow).where(ProcessedEventRow.processed_ts < keep_after_ts)
        async with transaction(self._sessions) as session:
            # DML answers with a CursorResult (rowcount); execute() is typed as any Result.
            result = cast("CursorResult[Any]", await session.execute(stmt))
            return int(result.rowcount or 0)
