"""The operator audit trail: who halted, resumed or flattened, and when."""

from __future__ import annotations

from sqlalchemy import insert, select

from engine.domain.records import AuditRecord
from engine.logs.audit import log_audit
from storage.convert import audit_from_row, audit_values
from storage.database import transaction
from storage.models import AuditRow
from storage.repositories.base import Repository


class AuditRepo(Repository):
    """Implements ``engine.ports.AuditRepository``; newest first."""

    async def add_audit(self, record: AuditRecord) -> None:
        async with transaction(self._sessions) as session:
            await session.execute(insert(AuditRow).values(**audit_values(record)))
        log_audit(record)  # after the commit: audit.jsonl holds what the table holds

    async def list_audit(self, limit: int = 100) -> list[AuditRecord]:
        stmt = select(AuditRow).order_by(AuditRow.audit_ts.desc(), AuditRow.id.desc()).limit(limit)
        async with self._sessions() as session:
            return [audit_from_row(row) for row in (await session.scalars(stmt))]

    async def list_audit_after(
        self, after_ts: int, action_prefix: str, limit: int = 50
    ) -> list[AuditRecord]:
        """A range scan on the ``audit_ts`` index: cheap enough to poll at 20 Hz."""
        stmt = (
            select(AuditRow)
            .where(AuditRow.audit_ts > after_ts, AuditRow.action.startswith(action_prefix))
            .order_by(AuditRow.audit_ts, AuditRow.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            return [audit_from_row(row) for row in (await session.scalars(stmt))]
