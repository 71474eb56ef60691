"""Read recorded days: summaries for ``ticks list``, whole days as one sorted table.

A live or crashed stream segment is read up to its last complete batch: a SIGKILL in the
middle of a flush leaves a torn tail, which ends the segment instead of failing the day.
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
    batches: list[pa.RecordBatch] = []
    try:
        with pa.OSFile(str(path), "rb") as source:
            reader = pa.ipc.open_stream(source)
            while True:
                try:
                    batches.append(reader.read_next_batch())
                except StopIteration:
                    break
    except (pa.ArrowInvalid, OSError) as exc:  # torn tail (or no schema yet): keep what is whole
        log.warning(
            "tick segment %s ends in a torn write after %d batches: %s", path, len(batches), exc
        )
    return pa.Table.from_batches(batches, schema=TICK_SCHEMA)


def _schema_of(names: list[str]) -> pa.Schema:
    return pa.schema([TICK_SCHEMA.field(name) for name in names])


def read_day(root: Path, day: date, symbols: Iterable[str] | None = None) -> pa.Table:
    """Every tick of ``day`` (only ``symbols``' if given), sorted by time; ties keep
    recording order, so a replay sees them as the engine did."""
    tables = [read_segment(path) for path in segments(day_dir(root, day))]
    table = pa.concat_tables(tables) if tables else TICK_SCHEMA.empty_table()
    if symbols is not None:
        wanted = pa.array(sorted(set(symbols)), pa.string())
        table = table.filter(pc.is_in(table.column("symbol").cast(pa.string()), wanted))
    if _in_time_order(table):  # one sealed segment, or several in turn: nothing to move
        return table
    order = pc.sort_indices(table, sort_keys=[("ts", "ascending")])  # Arrow's sort is stable
    return table.take(order)


def _in_time_order(table: pa.Table) -> bool:
    """True when no tick is earlier than the one before it (a stable sort would keep it)."""
    ts = table.column("ts").to_numpy()
    return bool((ts[1:] >= ts[:-1]).all())


def iter_day_ticks(root: Path, day: date, symbols: Iterable[str] | None = None) -> Iterator[Tick]:
    """The day's ticks as the engine consumes them (what replays and backtests feed on)."""
    return table_to_ticks(read_day(root, day, symbols))


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
