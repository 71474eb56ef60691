"""The audit channel: every operator action as one line in ``audit.jsonl``.

The stores call ``log_audit`` right after an audit row is written, so the file and the
audit table hold the same actions (kill, resume, halt, CLI requests); ``log_operator_action``
covers the actions that have no row (login and logout happen before any database).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from engine.domain.records import AuditRecord

AUDIT_LOG = logging.getLogger("alphapanda.audit")


def log_operator_action(
    action: str, actor: str, detail: Mapping[str, object] | None = None, *, ts_ns: int = 0
) -> None:
    """One audit line: who did what, with the detail as fields (scope, mode, reason…)."""
    fields = dict(detail or {})
    reason = fields.get("reason")
    scope = fields.get("scope") or fields.get("strategy")
    words = " ".join(str(part) for part in (action, scope) if part)
    AUDIT_LOG.info(
        "%s by %s%s",
        words,
        actor,
        f": {reason}" if reason else "",
        extra={
            "action": action,
            "actor": actor,
            "audit_ts": ts_ns or None,
            "detail": fields,
            **{key: value for key, value in fields.items() if key in _PROMOTED},
        },
    )


def log_audit(record: AuditRecord) -> None:
    """The line for an audit row just written."""
    log_operator_action(record.action, record.actor, record.detail, ts_ns=record.audit_ts)


# Detail keys also shown as top-level fields, so the log viewer shows and searches them.
_PROMOTED = frozenset({"scope", "mode", "previous", "reason", "broker", "strategy", "flatten"})
