"""The ``audit.jsonl`` line of a kill request, written as ``engine.logs`` writes it.

The stores log each audit row right after committing it, so the file holds what the table
holds. Importing ``engine.logs`` pulls in the engine's payloads; the lean kill path writes
the same JSON line (keys, order, formatting) through the engine's standard-library-only
owner-only handler (``engine.private_file``), rotated by the same ``log`` settings.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alphapanda_tui.kill_settings import KillSettings
from alphapanda_tui.kill_store import AuditLine
from engine.private_file import PrivateRotatingFileHandler

AUDIT_LOGGER = "alphapanda.audit"
# Detail keys engine.logs.audit also shows as top-level fields.
PROMOTED = frozenset({"scope", "mode", "previous", "reason", "broker", "strategy", "flatten"})


def audit_json_line(row: AuditLine, created: float) -> str:
    """``JsonLinesFormatter``'s line for ``log_audit(row)`` logged at ``created``."""
    reason = row.detail.get("reason")
    scope = row.detail.get("scope") or row.detail.get("strategy")
    words = " ".join(str(part) for part in (row.action, scope) if part)
    line: dict[str, Any] = {
        "ts": datetime.fromtimestamp(created, tz=UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z"),
        "level": "INFO",
        "channel": "audit",
        "logger": AUDIT_LOGGER,
        "message": f"{words} by {row.actor}" + (f": {reason}" if reason else ""),
    }
    extras = {
        "action": row.action,
        "actor": row.actor,
        "audit_ts": row.audit_ts or None,
        "detail": dict(row.detail),
        **{key: value for key, value in row.detail.items() if key in PROMOTED},
    }
    line.update({key: value for key, value in extras.items() if value is not None})
    return json.dumps(line, default=str, ensure_ascii=False)


class _AsIs(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return str(record.msg)


def log_audit_line(settings: KillSettings, row: AuditLine) -> None:
    """Append the row's line to ``{home}/logs/audit.jsonl`` (when INFO is logged)."""
    if not settings.logs_audit:
        return
    handler = PrivateRotatingFileHandler(
        ensure_logs_dir(settings.home) / "audit.jsonl",
        maxBytes=settings.log_max_bytes,
        backupCount=settings.log_backup_count,
        encoding="utf-8",
        delay=True,
    )
    handler.setFormatter(_AsIs())
    try:
        record = logging.LogRecord(AUDIT_LOGGER, logging.INFO, "", 0, "", None, None)
        record.msg = audit_json_line(row, record.created)
        handler.handle(record)
    finally:
        handler.close()


def ensure_logs_dir(home: Path) -> Path:
    """``Settings.ensure_home``: home, data and logs created owner-only when missing."""
    for directory in (home, home / "data", home / "logs"):
        if not directory.exists():
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(directory, 0o700)
    return home / "logs"
