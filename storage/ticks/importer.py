"""CSV and gzipped CSV into the store, validated row by row by the replay parser.

Nothing half-imported is ever visible: ticks are written to a staging directory beside
the days (``.import-<pid>``, which no reader lists) and its sealed segments are renamed
into their days only when the whole file was read, no row was refused (unless the caller
skips bad rows) and no day they fall on already holds ticks (importing twice would
double a day; prune it first).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from engine.events.payloads import Tick
from engine.instruments.registry import InstrumentRegistry
from engine.market.feeds.base import RejectedRow
from engine.market.feeds.replay import DEFAULT_PRICE_BAND_PCT, iter_replay, read_lines
from storage.durable import fsync_dir
from storage.ticks.layout import day_dir, segments, stored_days
from storage.ticks.writer import TickWriter

_CHUNK = 50_000  # ticks per write: one fsynced batch
_STAGING_PREFIX = ".import-"


class ImportRefused(ValueError):
    """The file was read but not imported: bad rows (``rejected``), or days already recorded."""

    def __init__(self, message: str, rejected: tuple[RejectedRow, ...] = ()) -> None:
        super().__init__(message)
        self.rejected = rejected


@dataclass(frozen=True, slots=True)
class ImportResult:
    ticks: int
    days: tuple[date, ...]
    rejected: tuple[RejectedRow, ...]  # skipped (with ``skip_bad``) or the reason for refusal


def import_csv(
    source: Path,
    root: Path,
    registry: InstrumentRegistry,
    *,
    price_band_pct: Decimal = DEFAULT_PRICE_BAND_PCT,
    skip_bad: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import ``source``; raises ``ImportRefused`` (nothing imported) or ``ReplayFormatError``."""
    _remove_dead_stagings(root)
    staging = root / f"{_STAGING_PREFIX}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        ticks, rejected = _stage(source, staging, registry, price_band_pct, on_progress)
        if rejected and not skip_bad:
            raise ImportRefused(
                f"{len(rejected):,} rows refused; nothing imported", tuple(rejected)
            )
        days = tuple(stored_days(staging))
        held = [day.isoformat() for day in days if segments(day_dir(root, day))]
        if held:
            raise ImportRefused(
                f"already recorded: {', '.join(held)}; prune those days first "
                "(alphapanda ticks prune --day DATE); nothing imported"
            )
        for day in days:
            _move_day(staging, root, day)
        return ImportResult(ticks=ticks, days=days, rejected=tuple(rejected))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(
    source: Path,
    staging: Path,
    registry: InstrumentRegistry,
    price_band_pct: Decimal,
    on_progress: Callable[[int], None] | None,
) -> tuple[int, list[RejectedRow]]:
    writer = TickWriter(staging)
    rejected: list[RejectedRow] = []
    pending: list[Tick] = []
    written = 0
    for item in iter_replay(read_lines(source), registry, price_band_pct=price_band_pct):
        if isinstance(item, RejectedRow):
            rejected.append(item)
            continue
        pending.append(item)
        if len(pending) >= _CHUNK:
            written += _flush(writer, pending, on_progress)
    written += _flush(writer, pending, on_progress)
    writer.close()
    return written, rejected


def _flush(
    writer: TickWriter, pending: list[Tick], on_progress: Callable[[int], None] | None
) -> int:
    count = len(pending)
    if count:
        writer.write(pending)
        pending.clear()
        if on_progress is not None:
            on_progress(count)
    return count


def _move_day(staging: Path, root: Path, day: date) -> None:
    target = day_dir(root, day)
    target.mkdir(parents=True, exist_ok=True)
    for segment in segments(day_dir(staging, day)):
        segment.replace(target / segment.name)
    fsync_dir(target)


def _remove_dead_stagings(root: Path) -> None:
    """Staging left by an import that was killed (its process is gone)."""
    if not root.is_dir():
        return
    for staging in root.glob(f"{_STAGING_PREFIX}*"):
        pid = staging.name.removeprefix(_STAGING_PREFIX)
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(staging, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
