"""Append-only history the console reads newest first: P&L snapshots and risk alerts."""

from __future__ import annotations

from sqlalchemy import select

from engine.domain.records import PnlSnapshotRecord, RiskAlertRecord
from engine.events.types import Broker, Severity
from storage.convert import record_values, row_reader
from storage.models import PnlSnapshotRow, RiskAlertRow
from storage.repositories.base import Repository, broker_rows


class SnapshotRepo(Repository):
    """Implements ``engine.ports.SnapshotRepository``."""

    async def add_pnl_snapshot(self, snapshot: PnlSnapshotRecord) -> None:
        await self._insert(PnlSnapshotRow, record_values(snapshot))

    async def latest_pnl_snapshot(self, broker: Broker) -> PnlSnapshotRecord | None:
        newest = (PnlSnapshotRow.snapshot_ts.desc(), PnlSnapshotRow.id.desc())
        stmt = broker_rows(PnlSnapshotRow, broker, *newest).limit(1)
        return await self._first(stmt, row_reader(PnlSnapshotRecord))


class AlertRepo(Repository):
    """Implements ``engine.ports.AlertRepository``."""

    async def add_alert(self, alert: RiskAlertRecord) -> None:
        await self._insert(RiskAlertRow, record_values(alert))

    async def list_alerts(self, limit: int = 100) -> list[RiskAlertRecord]:
        stmt = (
            select(RiskAlertRow)
            .order_by(RiskAlertRow.alert_ts.desc(), RiskAlertRow.id.desc())
            .limit(limit)
        )
        return await self._all(stmt, row_reader(RiskAlertRecord))

    async def list_alerts_since(
        self, since_ts: int, severity: Severity, limit: int = 200
    ) -> list[RiskAlertRecord]:
        stmt = (
            select(RiskAlertRow)
            .where(RiskAlertRow.alert_ts >= since_ts, RiskAlertRow.severity == str(severity))
            .order_by(RiskAlertRow.alert_ts.desc(), RiskAlertRow.id.desc())
            .limit(limit)
        )
        return await self._all(stmt, row_reader(RiskAlertRecord))

    async def list_refusals(self, broker: Broker, limit: int = 200) -> list[RiskAlertRecord]:
        stmt = (
            select(RiskAlertRow)
            .where(RiskAlertRow.signal_id.is_not(None), RiskAlertRow.broker == str(broker))
            .order_by(RiskAlertRow.alert_ts.desc(), RiskAlertRow.id.desc())
            .limit(limit)
        )
        return await self._all(stmt, row_reader(RiskAlertRecord))
