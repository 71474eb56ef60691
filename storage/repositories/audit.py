"""The operator audit trail: who halted, resumed or flattened, and when."""

from __future__ import annotations

from sqlalchemy import select

from engine.domain.records import AuditRecord
from engine.logs.audit import log_audit
from storage.convert import record_values, row_reader
from storage.models import AuditRow
from storage.repositories.base import Repository


class AuditRepo(Repository):
    """Implements ``engine.ports.AuditRepository``; newest first."""

    async def add_audit(self, record: AuditRecord) -> None:
        await self._insert(AuditRow, record_values(record))
        log_audit(record)  # after the commit: audit.jsonl holds what the table holds

    async def list_audit(self, limit: int = 100) -> list[AuditRecord]:
        stmt = select(AuditRow).order_by(AuditRow.audit_ts.desc(), AuditRow.id.desc()).limit(limit)
        return await self._all(stmt, row_reader(AuditRecord))

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
        return await self._all(stmt, row_reader(AuditRecord))
