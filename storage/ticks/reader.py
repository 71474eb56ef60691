"""Read recorded days: summaries for ``ticks list``, whole days as one sorted table, and
days or segments as consecutive tables for replays and backtests.

A live or crashed stream segment is read up to its last complete batch: a SIGKILL in the
middle of a flush leaves a torn tail, which ends the segment instead of failing the day.

A replay reads a file ``CHUNK_ROWS`` rows at a time (``iter_segment_tables``,
``iter_day_tables``) and drops each chunk once its ticks are out, so its memory does not
grow with the length of the day.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.events.payloads import Tick
from storage.ticks.layout import SEALED_SUFFIX, day_dir, segments, stored_days
from storage.ticks.schema import TICK_SCHEMA, table_to_ticks

log = logging.getLogger("alphapanda.ticks")
CHUNK_ROWS = 65_536  # rows decoded at a time by a replay: a few MB, whatever the file's length


@dataclass(frozen=True, slots=True)
class DaySummary:
    """One recorded day as ``ticks list`` shows it."""

    day: date
    ticks: int
    instruments: int
    bytes: int
    first_ts: int | None  # UTC ns; None for a day with no readable tick
    last_ts: int | None


def read_segment(path: Path, columns: Iterable[str] | None = None) -> pa.Table:
    """One segment as a table in ``TICK_SCHEMA`` (or the ``columns`` asked for)."""
    wanted = list(columns) if columns is not None else None
    if path.name.endswith(SEALED_SUFFIX):
        table = pq.read_table(path, columns=wanted)
    else:
        table = _read_stream(path)
        if wanted is not None:
            table = table.select(wanted)
    return table.cast(_schema_of(table.column_names))


def _read_stream(path: Path) -> pa.Table:
    return pa.Table.from_batches(list(_stream_batches(path)), schema=TICK_SCHEMA)


def _stream_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """A stream segment's whole batches, in order, up to a torn tail."""
    read = 0
    try:
        with pa.OSFile(str(path), "rb") as source:
            reader = pa.ipc.open_stream(source)
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                read += 1
                yield batch
    except (pa.ArrowInvalid, OSError) as exc:  # torn tail (or no schema yet): keep what is whole
        log.warning("tick segment %s ends in a torn write after %d batches: %s", path, read, exc)


def iter_segment_tables(
    path: Path, columns: Iterable[str] | None = None, rows: int = CHUNK_ROWS
) -> Iterator[pa.Table]:
    """One segment as consecutive tables of about ``rows`` rows (the last may be
    shorter), in ``TICK_SCHEMA`` (or the ``columns`` asked for); only one is decoded at a
    time. A stream segment's small flush batches are joined up to ``rows``."""
    wanted = list(columns) if columns is not None else TICK_SCHEMA.names
    schema = _schema_of(wanted)
    if path.name.endswith(SEALED_SUFFIX):
        with pq.ParquetFile(path) as sealed:
            for batch in sealed.iter_batches(batch_size=rows, columns=wanted):
                yield pa.Table.from_batches([batch]).cast(schema)
        return
    pending: list[pa.RecordBatch] = []
    for batch in _stream_batches(path):
        pending.append(batch.select(wanted))
        if sum(b.num_rows for b in pending) >= rows:
            yield pa.Table.from_batches(pending).cast(schema)
            pending = []
    if pending:
        yield pa.Table.from_batches(pending).cast(schema)


def _schema_of(names: list[str]) -> pa.Schema:
    return pa.schema([TICK_SCHEMA.field(name) for name in names])


def read_day(root: Path, day: date, symbols: Iterable[str] | None = None) -> pa.Table:
    """Every tick of ``day`` (only ``symbols``' if given), sorted by time; ties keep
    recording order, so a replay sees them as the engine did."""
    tables = [read_segment(path) for path in segments(day_dir(root, day))]
    table = pa.concat_tables(tables) if tables else TICK_SCHEMA.empty_table()
    if symbols is not None:
        table = _only(table, symbols)
    if _in_time_order(table):  # one sealed segment, or several in turn: nothing to move
        return table
    order = pc.sort_indices(table, sort_keys=[("ts", "ascending")])  # Arrow's sort is stable
    return table.take(order)


def iter_day_tables(
    root: Path, day: date, symbols: Iterable[str] | None = None, rows: int = CHUNK_ROWS
) -> Iterator[pa.Table]:
    """``read_day``'s rows as consecutive tables of about ``rows`` rows. Segments that
    are already in time order (one sealed segment, or several in turn: the usual day)
    are read a chunk at a time; a day whose segments overlap in time is sorted whole
    first, as ``read_day`` does, and so takes memory in proportion to its length."""
    paths = segments(day_dir(root, day))
    tables: Iterable[pa.Table]
    if _segments_in_time_order(paths):
        tables = (table for path in paths for table in iter_segment_tables(path, rows=rows))
    else:
        whole = read_day(root, day)
        tables = (whole.slice(start, rows) for start in range(0, whole.num_rows, rows))
    for table in tables:
        yield table if symbols is None else _only(table, symbols)


def _only(table: pa.Table, symbols: Iterable[str]) -> pa.Table:
    wanted = pa.array(sorted(set(symbols)), pa.string())
    return table.filter(pc.is_in(table.column("symbol").cast(pa.string()), wanted))


def _segments_in_time_order(paths: list[Path]) -> bool:
    """True when the segments' ticks, one segment after another, never go back in time
    (reads only their ``ts`` columns, a chunk at a time)."""
    latest: int | None = None
    for path in paths:
        for table in iter_segment_tables(path, columns=("ts",)):
            ts = table.column("ts").to_numpy()
            if not len(ts):
                continue
            if (latest is not None and ts[0] < latest) or not (ts[1:] >= ts[:-1]).all():
                return False
            latest = int(ts[-1])
    return True


def _in_time_order(table: pa.Table) -> bool:
    """True when no tick is earlier than the one before it (a stable sort would keep it)."""
    ts = table.column("ts").to_numpy()
    return bool((ts[1:] >= ts[:-1]).all())


def iter_day_ticks(root: Path, day: date, symbols: Iterable[str] | None = None) -> Iterator[Tick]:
    """The day's ticks as the engine consumes them (what replays feed on), decoded a
    chunk at a time."""
    for table in iter_day_tables(root, day, symbols):
        yield from table_to_ticks(table)


def summarise_day(root: Path, day: date) -> DaySummary:
    paths = segments(day_dir(root, day))
    tables = [read_segment(path, ("ts", "token")) for path in paths]
    table = pa.concat_tables(tables) if tables else _schema_of(["ts", "token"]).empty_table()
    bounds = pc.min_max(table.column("ts")).as_py() if table.num_rows else {}
    return DaySummary(
        day=day,
        ticks=table.num_rows,
        instruments=len(pc.unique(table.column("token"))),
        bytes=sum(path.stat().st_size for path in paths),
        first_ts=bounds.get("min"),
        last_ts=bounds.get("max"),
    )


def list_days(root: Path) -> list[DaySummary]:
    """Every recorded day under ``root``, oldest first."""
    return [summarise_day(root, day) for day in stored_days(root)]
