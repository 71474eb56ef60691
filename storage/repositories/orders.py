"""The order outbox: an intent is stored before it is sent, keyed by client order id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from engine.domain.records import FillRecord, OrderRecord, OrderStepRecord, order_step
from engine.events.types import Broker, OrderStatus
from engine.ports import ProcessedMark
from storage.convert import record_values, row_reader
from storage.database import transaction
from storage.models import OrderRow, OrderStepRow
from storage.repositories.base import Repository, upsert_insert
from storage.repositories.fills import insert_fill_in
from storage.repositories.processed import mark_processed


async def _update_order_in(session: AsyncSession, order: OrderRecord) -> None:
    values = record_values(order)
    client_order_id = values.pop("client_order_id")
    stmt = update(OrderRow).where(OrderRow.client_order_id == client_order_id).values(**values)
    # An UPDATE answers with a CursorResult (rowcount); execute() is typed as any Result.
    result = cast("CursorResult[Any]", await session.execute(stmt))
    if not result.rowcount:
        raise KeyError(f"unknown client order id {client_order_id}")
    await _add_step_in(session, order)


async def _add_step_in(session: AsyncSession, order: OrderRecord) -> None:
    """The order's status, as a step of its history, unless it was in it already (same
    status and filled quantity: a redelivery or a change of price only)."""
    stmt = (
        upsert_insert(session, OrderStepRow)
        .values(**record_values(order_step(order)))
        .on_conflict_do_nothing(index_elements=["client_order_id", "status", "filled_quantity"])
    )
    await session.execute(stmt)


class OrderRepo(Repository):
    """Implements ``engine.ports.OrderRepository``."""

    async def insert_order(
        self, order: OrderRecord, processed: ProcessedMark | None = None
    ) -> bool:
        async with transaction(self._sessions) as session:
            stmt = (
                upsert_insert(session, OrderRow)
                .values(**record_values(order))
                .on_conflict_do_nothing(index_elements=["client_order_id"])
                .returning(OrderRow.id)
            )
            if (await session.execute(stmt)).first() is None:
                return False
            await _add_step_in(session, order)
            await mark_processed(session, processed, self._now_ns())
        return True

    async def update_order(self, order: OrderRecord) -> None:
        async with transaction(self._sessions) as session:
            await _update_order_in(session, order)

    async def apply_execution(self, order: OrderRecord, fill: FillRecord | None) -> bool:
        async with transaction(self._sessions) as session:
            if fill is not None and not await insert_fill_in(session, fill):
                return False  # the duplicate trade was the first write: nothing to undo
            await _update_order_in(session, order)  # KeyError rolls the fill back
        return True

    async def get_order(self, client_order_id: str) -> OrderRecord | None:
        stmt = select(OrderRow).where(OrderRow.client_order_id == client_order_id)
        return await self._first(stmt, row_reader(OrderRecord))

    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]:
        stmt = select(OrderRow).where(OrderRow.broker == str(broker))
        if statuses:
            stmt = stmt.where(OrderRow.status.in_([str(s) for s in statuses]))
        stmt = stmt.order_by(OrderRow.created_ts.desc(), OrderRow.client_order_id.desc())
        return await self._all(stmt.limit(limit), row_reader(OrderRecord))

    async def list_order_steps(self, client_order_ids: Sequence[str]) -> list[OrderStepRecord]:
        if not client_order_ids:
            return []
        stmt = (
            select(OrderStepRow)
            .where(OrderStepRow.client_order_id.in_(list(client_order_ids)))
            .order_by(OrderStepRow.step_ts, OrderStepRow.id)
        )
        return await self._all(stmt, row_reader(OrderStepRecord))
