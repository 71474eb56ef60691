"""Append-only history the console reads newest first: P&L snapshots and risk alerts."""

from __future__ import annotations

from sqlalchemy import insert, select

from engine.domain.records import PnlSnapshotRecord, RiskAlertRecord
from engine.events.types import Broker
from storage.convert import alert_from_row, alert_values, snapshot_from_row, snapshot_values
from storage.database import transaction
from storage.models import PnlSnapshotRow, RiskAlertRow
from storage.repositories.base import Repository


class SnapshotRepo(Repository):
    """Implements ``engine.ports.SnapshotRepository``."""

    async def add_pnl_snapshot(self, snapshot: PnlSnapshotRecord) -> None:
        async with transaction(self._sessions) as session:
            await session.execute(insert(PnlSnapshotRow).values(**snapshot_values(snapshot)))

    async def latest_pnl_snapshot(self, broker: Broker) -> PnlSnapshotRecord | None:
        stmt = (
            select(PnlSnapshotRow)
            .where(PnlSnapshotRow.broker == str(broker))
            .order_by(PnlSnapshotRow.snapshot_ts.desc(), PnlSnapshotRow.id.desc())
            .limit(1)
        )
        async with self._sessions() as session:
            row = (await session.scalars(stmt)).first()
            return snapshot_from_row(row) if row is not None else None


class AlertRepo(Repository):
    """Implements ``engine.ports.AlertRepository``."""

    async def add_alert(self, alert: RiskAlertRecord) -> None:
        async with transaction(self._sessions) as session:
            await session.execute(insert(RiskAlertRow).values(**alert_values(alert)))

    async def list_alerts(self, limit: int = 100) -> list[RiskAlertRecord]:
        stmt = (
            select(RiskAlertRow)
            .order_by(RiskAlertRow.alert_ts.desc(), RiskAlertRow.id.desc())
            .limit(limit)
        )
        async with self._sessions() as session:
            return [alert_from_row(row) for row in (await session.scalars(stmt))]
