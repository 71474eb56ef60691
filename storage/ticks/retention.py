"""Retention: recorded days older than the configured number of days are deleted."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from storage.ticks.layout import day_dir, stored_days, stream_segments
from storage.ticks.writer import in_use


def expired_days(root: Path, *, retention_days: int, today: date) -> list[date]:
    """Days older than ``retention_days`` before ``today`` (today itself always stays)."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1 (today is being recorded)")
    cutoff = today - timedelta(days=retention_days - 1)
    return [day for day in stored_days(root) if day < cutoff]


class DayInUse(ValueError):
    """A day a running engine is still recording: deleting it would lose what follows."""


def prune(root: Path, days: list[date]) -> None:
    """Delete these days' directories and every segment in them; refuses (``DayInUse``,
    nothing deleted) when a running writer still holds one of their segments."""
    recording = [
        day.isoformat()
        for day in days
        if any(in_use(stream) for stream in stream_segments(day_dir(root, day)))
    ]
    if recording:
        raise DayInUse(f"{', '.join(recording)} is being recorded by a running engine")
    for day in days:
        shutil.rmtree(day_dir(root, day))
