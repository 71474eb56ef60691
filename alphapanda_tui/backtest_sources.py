"""Where ``alphapanda backtest`` gets recorded ticks: a day of the tick store
(``--day DATE``) or one Parquet / Arrow-stream tick file (``--ticks FILE``).

Both load as columns and run the replay rules on them
(``engine.market.feeds.column_checks``): bad rows become dead letters, as in a CSV. The
files are read as the run goes (``TickStream.open_ticks``), a chunk of rows at a time,
each dropped once its ticks are out, so a long day replays in the memory of a short one
and the backtest's time includes loading; what can be refused cheaply (no such day,
another schema) is refused before, as a usage error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from alphapanda_tui.errors import UsageError
from alphapanda_tui.tick_store import ticks_root
from engine.backtest import SyntheticTicks, TickFile, TickSource, TickStream
from engine.instruments.registry import InstrumentRegistry
from engine.market.feeds.column_checks import validated_chunks
from engine.market.feeds.stream import TickItems
from storage.ticks.columns import TickFileError, check_tick_file, is_columnar, table_columns
from storage.ticks.layout import day_dir, segments, stored_days
from storage.ticks.reader import iter_day_tables, iter_segment_tables


def source_of_args(settings: Any, registry: InstrumentRegistry, args: Any) -> TickSource:
    """The source ``backtest``'s arguments name: ``--candles``, ``--day`` / ``--ticks`` or
    ``--synthetic``. A sweep's workers call it again with the same arguments: a
    ``TickStream`` holds a closure, which does not cross into a spawned process."""
    if args.candles:
        from alphapanda_tui.candle_history import backtest_candles

        return backtest_candles(settings, registry, args)
    if args.ticks is not None or args.day is not None:
        return recorded_source(settings, registry, ticks=args.ticks, day=args.day)
    return SyntheticTicks(args.synthetic, seed=args.seed)


def recorded_source(
    settings: Any, registry: InstrumentRegistry, *, ticks: Path | None, day: str | None
) -> TickSource:
    """``--day DATE`` or ``--ticks FILE`` (CSV or gzipped CSV, Parquet or Arrow stream)."""
    band = settings.feed.price_band_pct
    if day is not None:
        return recorded_day(ticks_root(settings), day, registry, band)
    if ticks is None or not ticks.is_file():
        raise UsageError(f"tick file not found: {ticks}")
    if is_columnar(ticks):
        return columnar_file(ticks, registry, band)
    return TickFile(ticks, price_band_pct=band)


def recorded_day(
    root: Path, text: str, registry: InstrumentRegistry, price_band_pct: Decimal
) -> TickStream:
    """The day ``text`` names, as recorded under ``root``; a usage error naming the
    recorded days when it is not a date or nothing of it was recorded."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not segments(day_dir(root, day)):
        listing = ", ".join(d.isoformat() for d in stored_days(root)) or f"none under {root}"
        wanted = f"no ticks recorded on {text}" if day else f"--day wants YYYY-MM-DD, not {text!r}"
        raise UsageError(f"{wanted}; recorded days: {listing}")

    def open_ticks() -> TickItems:
        return _checked(lambda: iter_day_tables(root, day), registry, price_band_pct)

    return TickStream(open_ticks, label=f"day:{day.isoformat()}")


def columnar_file(path: Path, registry: InstrumentRegistry, price_band_pct: Decimal) -> TickStream:
    """One tick segment file, its schema checked now (a usage error when it is not one)."""
    try:
        check_tick_file(path)
    except TickFileError as exc:
        raise UsageError(str(exc)) from None

    def open_ticks() -> TickItems:
        return _checked(lambda: iter_segment_tables(path), registry, price_band_pct)

    return TickStream(open_ticks, label=f"file:{path}")


def _checked(
    read: Callable[[], Iterable[pa.Table]], registry: InstrumentRegistry, price_band_pct: Decimal
) -> TickItems:
    """The tables ``read`` yields, in turn, as checked ticks: each table is decoded when
    the replay reaches it and dropped once its ticks are out."""
    columns = (table_columns(table) for table in read())
    return validated_chunks(columns, registry, price_band_pct=price_band_pct)
