"""Write ticks to the store: append to a live stream segment, seal it as Parquet.

A ``TickWriter`` is used from one thread at a time (the recorder's writer thread, or the
importer); every call blocks on disk, which is why the recorder never calls it on the
event loop. Each ``write`` is one record batch per day touched, flushed and fsynced
before it returns: what ``write`` returned for survives a SIGKILL or a power cut.

A live segment holds an exclusive ``flock`` for as long as its writer has it open, so
``recover`` (run at every start) seals only streams whose writer is gone, never the live
segment of a console that is still recording.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.clock import NS_PER_S
from engine.events.payloads import Tick
from storage.durable import fsync_dir, replace_durably
from storage.ticks.config import DEFAULT_ROTATE_TICKS
from storage.ticks.layout import (
    STREAM_SUFFIX,
    day_dir,
    sealed_path,
    stored_days,
    stream_segments,
)
from storage.ticks.reader import read_segment
from storage.ticks.schema import TICK_SCHEMA, ticks_to_batch

log = logging.getLogger("alphapanda.ticks")

_sequence = itertools.count(1)


class _LiveSegment:
    """One open stream file of one day, locked while open."""

    def __init__(self, directory: Path, first_ts: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{first_ts:019d}-{os.getpid()}-{next(_sequence):04d}{STREAM_SUFFIX}"
        self.path = directory / name
        self._file: BinaryIO = self.path.open("xb", buffering=0)
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fsync_dir(directory)  # the new name itself survives a crash
        self._stream = pa.ipc.new_stream(self._file, TICK_SCHEMA)
        self.ticks = 0

    def append(self, batch: pa.RecordBatch) -> None:
        self._stream.write_batch(batch)
        os.fsync(self._file.fileno())
        self.ticks += batch.num_rows

    def finish(self) -> None:
        """Write the end-of-stream marker and fsync; the lock stays until ``release``, so
        no other process's recovery seals this segment while we do."""
        self._stream.close()
        os.fsync(self._file.fileno())

    def release(self) -> None:
        """Close the file, releasing the lock (after a failed write: without an end marker,
        the tail may be torn; recovery seals what is whole)."""
        try:
            self._file.close()
        except OSError as exc:
            log.warning("tick segment %s could not be closed: %s", self.path, exc)


class TickWriter:
    """Appends ticks to one live segment per day; seals segments on rotation and close."""

    def __init__(self, root: Path, *, rotate_ticks: int = DEFAULT_ROTATE_TICKS) -> None:
        if rotate_ticks < 1:
            raise ValueError("rotate_ticks must be at least 1")
        self.root = root
        self.rotate_ticks = rotate_ticks
        self._live: dict[date, _LiveSegment] = {}
        self.written = 0

    def write(self, ticks: Sequence[Tick]) -> None:
        """Append ``ticks`` (any order, any days) durably: fsynced when this returns."""
        if not ticks:
            return
        for day, batch in _by_day(ticks_to_batch(ticks)):
            segment = self._live.get(day)
            if segment is None:
                self._seal_days_before(day)
                first_ts = batch.column("ts")[0].as_py()
                segment = self._live[day] = _LiveSegment(day_dir(self.root, day), first_ts)
            try:
                segment.append(batch)
            except BaseException:
                # The tail may be torn: nothing may follow it in this file, or the reader
                # would stop before it. Recovery seals what is whole; the next write
                # opens a new segment.
                del self._live[day]
                segment.release()
                raise
            self.written += batch.num_rows
            if segment.ticks >= self.rotate_ticks:
                del self._live[day]
                _seal(segment)

    def close(self) -> None:
        """Seal every live segment (a clean stop leaves only Parquet behind)."""
        while self._live:
            _, segment = self._live.popitem()
            _seal(segment)

    def _seal_days_before(self, day: date) -> None:
        """A new day began: yesterday's segment is finished (a late tick opens another)."""
        for older in [d for d in self._live if d < day]:
            _seal(self._live.pop(older))


# Asia/Kolkata has kept +05:30, without daylight saving, since 1945: a tick's IST day
# is integer arithmetic on its timestamp, for a whole batch at once (``ist_day`` per
# tick, a tz-aware datetime each, cost more than converting the tick).
_IST_OFFSET_NS = (5 * 3600 + 30 * 60) * NS_PER_S
_DAY_NS = 86_400 * NS_PER_S
_EPOCH = date(1970, 1, 1)


def _by_day(batch: pa.RecordBatch) -> list[tuple[date, pa.RecordBatch]]:
    """The batch's rows split by IST day, oldest day first, each day's rows in order."""
    ts = batch.column("ts").to_numpy()
    days = (ts + _IST_OFFSET_NS) // _DAY_NS
    if days.min() == days.max():  # a flush nearly always holds one day
        return [(_EPOCH + timedelta(days=int(days[0])), batch)]
    return [
        (_EPOCH + timedelta(days=int(number)), batch.filter(pa.array(days == number)))
        for number in np.unique(days)
    ]


def _seal(segment: _LiveSegment) -> None:
    """Finish a segment; a seal that fails leaves the stream, whole and readable, for
    recovery at the next start rather than failing the write that already succeeded."""
    try:
        segment.finish()
        seal_stream(segment.path)
    except Exception as exc:
        log.error("tick segment %s left unsealed (sealed at the next start): %s", segment.path, exc)
    finally:
        segment.release()


def seal_stream(stream: Path) -> Path | None:
    """Rewrite a stream segment as Parquet atomically, then drop the stream.

    Returns the sealed file, or None when the stream held no tick (it is just removed).
    Safe to run again after a crash at any step: the reader never counts both forms.
    """
    target = sealed_path(stream)
    if not target.exists():
        table = read_segment(stream)
        if table.num_rows == 0:
            stream.unlink()
            fsync_dir(stream.parent)
            return None
        replace_durably(target, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    stream.unlink()
    fsync_dir(stream.parent)
    return target


def recover(root: Path) -> list[Path]:
    """Seal the streams a crashed or killed writer left behind; returns what was sealed.

    A stream still locked by a running writer (another console recording) is left alone.
    """
    sealed: list[Path] = []
    for day in stored_days(root):
        for stream in stream_segments(day_dir(root, day)):
            if in_use(stream):
                continue
            interrupted = sealed_path(stream)
            interrupted.with_name(interrupted.name + ".tmp").unlink(missing_ok=True)
            target = seal_stream(stream)
            log.info("tick segment %s recovered as %s", stream, target)
            if target is not None:
                sealed.append(target)
    return sealed


def in_use(stream: Path) -> bool:
    """True while a writer (in any process) holds this stream segment open."""
    with stream.open("rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False
