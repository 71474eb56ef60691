"""Where ticks live on disk: one directory per IST trading day, segment files inside.

``<root>/YYYY-MM-DD/<segment>.arrows`` is a live (or crashed) Arrow IPC stream;
``<segment>.parquet`` is the same segment sealed. Sealing writes ``.parquet.tmp`` first,
so a name ending in ``.tmp`` is never a segment, and a stream whose sealed twin exists
(a crash between the rename and the unlink) is a leftover, not more ticks.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from engine.clock import IST, NS_PER_S

STREAM_SUFFIX = ".arrows"
SEALED_SUFFIX = ".parquet"
_DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def ist_day(ts_ns: int) -> date:
    """The Asia/Kolkata calendar date of an event time: the day a tick is filed under."""
    # Whole seconds, floored: a float division rounds a tick a few ns before IST midnight
    # up into the next day, filing it under the wrong date.
    return datetime.fromtimestamp(ts_ns // NS_PER_S, IST).date()


def day_dir(root: Path, day: date) -> Path:
    return root / day.isoformat()


def stored_days(root: Path) -> list[date]:
    """Days with a directory under ``root``, oldest first (anything else there is ignored)."""
    if not root.is_dir():
        return []
    names = (p.name for p in root.iterdir() if p.is_dir() and _DAY_NAME.match(p.name))
    return sorted(date.fromisoformat(name) for name in names)


def segments(directory: Path) -> list[Path]:
    """A day's segment files in recording order (names start with their opening time)."""
    if not directory.is_dir():
        return []
    files = {p.name: p for p in directory.iterdir() if p.is_file()}
    chosen = [
        path
        for name, path in files.items()
        if name.endswith(SEALED_SUFFIX)
        or (name.endswith(STREAM_SUFFIX) and _sealed_name(name) not in files)
    ]
    return sorted(chosen, key=lambda p: p.name)


def stream_segments(directory: Path) -> list[Path]:
    """Unsealed streams of a day (live, or left by a crash), leftovers of a seal included."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(STREAM_SUFFIX))


def sealed_path(stream: Path) -> Path:
    return stream.with_name(_sealed_name(stream.name))


def _sealed_name(stream_name: str) -> str:
    return stream_name.removesuffix(STREAM_SUFFIX) + SEALED_SUFFIX
