"""Recorded tables as numpy columns, and single tick files checked for their schema.

The bridge between Arrow and the engine's columnar tick builder
(``engine.market.feeds.columnar``): one conversion per column, never per row. A file
handed to ``backtest --ticks`` must be a tick segment (``TICK_SCHEMA``); any other
table is refused up front in words, rather than failing somewhere inside the replay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from engine.market.feeds.columnar import PRICE_NAMES, QUANTITY_NAMES, TickColumns
from storage.ticks.layout import SEALED_SUFFIX, STREAM_SUFFIX
from storage.ticks.schema import PRICE_SCALE, TICK_SCHEMA

COLUMNAR_SUFFIXES = (SEALED_SUFFIX, STREAM_SUFFIX)
_NULL_FILL = -1  # under a null; a real -1 is refused as a non-positive price anyway


class TickFileError(ValueError):
    """A file that is not a readable tick segment (another schema, or not Arrow at all)."""


def is_columnar(path: Path) -> bool:
    """A tick-store segment by its name (sealed Parquet or a live Arrow stream)."""
    return path.name.endswith(COLUMNAR_SUFFIXES)


def check_tick_file(path: Path) -> None:
    """Refuse (``TickFileError``) a file that is not a Parquet or Arrow-stream tick
    segment in ``TICK_SCHEMA``; reads only its schema."""
    try:
        if path.name.endswith(SEALED_SUFFIX):
            schema = pq.read_schema(path)
        else:
            with pa.OSFile(str(path), "rb") as source:
                schema = ipc.open_stream(source).schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise TickFileError(f"{path}: not a readable Arrow/Parquet file: {exc}") from None
    problems = schema_problems(schema)
    if problems:
        raise TickFileError(f"{path}: not an AlphaPanda tick file: {'; '.join(problems)}")


def schema_problems(schema: pa.Schema) -> list[str]:
    """What keeps ``schema`` from being read as ``TICK_SCHEMA`` (empty: nothing)."""
    missing = [f.name for f in TICK_SCHEMA if f.name not in schema.names]
    problems = [f"no column {', '.join(missing)}"] if missing else []
    for field in TICK_SCHEMA:
        if field.name in schema.names:
            found = schema.field(field.name).type
            if not _same_kind(found, field.type):
                problems.append(f"column {field.name} is {found}, not {field.type}")
    extra = [name for name in schema.names if name not in TICK_SCHEMA.names]
    if extra:
        problems.append(f"unexpected column {', '.join(extra)}")
    return problems


def _same_kind(found: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_dictionary(expected):  # any string dictionary, or plain strings
        value = found.value_type if pa.types.is_dictionary(found) else found
        return bool(pa.types.is_string(value) or pa.types.is_large_string(value))
    return bool(found == expected)


def table_columns(table: pa.Table) -> TickColumns:
    """``table`` (in ``TICK_SCHEMA``) as the engine's tick columns, in row order."""
    nulls: dict[str, np.ndarray] = {}

    def ints(name: str, absent: int = _NULL_FILL) -> np.ndarray:
        column = table.column(name)
        if column.null_count:
            if absent == _NULL_FILL:
                nulls[name] = column.is_null().to_numpy(zero_copy_only=False)
            column = column.fill_null(absent)
        return np.asarray(column.to_numpy(), dtype=np.int64)

    symbol, symbol_names = _symbols(table)
    return TickColumns(
        ts=ints("ts"),
        token=ints("token"),
        prices={name: ints(name) for name in PRICE_NAMES},
        quantities={name: ints(name, absent=0) for name in QUANTITY_NAMES},  # as a CSV's
        oi=ints("oi"),
        nulls=nulls,
        symbol=symbol,
        symbol_names=symbol_names,
        price_scale=PRICE_SCALE,
    )


def _symbols(table: pa.Table) -> tuple[np.ndarray, list[str]]:
    """Each row's symbol as an index into the distinct names (segments' dictionaries
    unified first: each file numbers its own)."""
    column = table.column("symbol")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    chunks = pa.table({"symbol": column}).unify_dictionaries().column(0).chunks
    if not chunks:
        return np.zeros(0, dtype=np.int64), []
    codes = [np.asarray(c.indices.to_numpy(zero_copy_only=False), np.int64) for c in chunks]
    return np.concatenate(codes), chunks[0].dictionary.to_pylist()
