"""The last backtests, one JSON file each under ``<home>/backtests``, for the console.

Each run saves its summary and report (the trade list left out: the curve and figures
are what the screen shows, and the trips of a long run are large), named by when it
ran (UTC) so the names sort by time. Only the newest ``keep`` stay; a file that cannot
be read is skipped, never fatal, and a write goes through a temporary file so a crash
never leaves half a report.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.backtest_report.report import SavedBacktest

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class BacktestArchive:
    def __init__(self, directory: Path, keep: int) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.directory = directory
        self.keep = keep

    def save(self, summary: dict[str, Any], report: dict[str, Any], now: datetime) -> Path:
        """Write one run, then delete all but the newest ``keep``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        strategy = _UNSAFE.sub("_", str(summary["strategy"]))[:40]
        path = self.directory / f"{now:%Y%m%dT%H%M%S%f}-{strategy}.json"
        kept = {k: v for k, v in report.items() if k != "trade_list"}
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"summary": summary, "report": kept}))
        os.replace(scratch, path)
        for old in self._files()[self.keep :]:
            old.unlink(missing_ok=True)
        return path

    def recent(self) -> list[SavedBacktest]:
        """The kept runs, newest first."""
        saved = []
        for path in self._files():
            try:
                data = json.loads(path.read_text())
                saved.append(SavedBacktest(path.stem, data["summary"], data["report"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return saved

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"), reverse=True)
