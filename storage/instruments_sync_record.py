"""When the instruments were last synced: ``{data_dir}/instruments_synced.json``.

Implements ``engine.zerodha.instruments_sync.SyncRecord``. A file, not a table, so
``alphapanda instruments sync`` and the console agree without a migration; a missing
or unreadable file means "never synced" and the pre-trading check says so.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

FILE_NAME = "instruments_synced.json"


class FileSyncRecord:
    """The last sync's IST date and rows per exchange, in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME

    def record(self, day: date, per_exchange: dict[str, int]) -> None:
        self.path.write_text(json.dumps({"synced_on": day.isoformat(), "rows": per_exchange}))

    def synced_on(self) -> date | None:
        try:
            return date.fromisoformat(json.loads(self.path.read_text())["synced_on"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
