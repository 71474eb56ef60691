"""A recorded day as CSV in the format the replay feed reads (plain, or gzipped by name).

Times are written in Asia/Kolkata with their offset (``2026-01-05T09:15:00.250000+05:30``),
to the microsecond: the replay parser reads ISO 8601, which holds no finer time. Prices
keep their paise (``1574.20``); an absent optional price is an empty cell, never zero.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from engine.clock import IST
from engine.events.payloads import Tick

CSV_COLUMNS = (
    "ts",
    "instrument_token",
    "symbol",
    "last_price",
    "volume",
    "last_quantity",
    "bid",
    "ask",
    "bid_quantity",
    "ask_quantity",
    "open",
    "high",
    "low",
    "close",
    "oi",
)


def iso_ist(ts_ns: int) -> str:
    """UTC ns to ISO 8601 in IST, exact to the microsecond (no float on the way)."""
    seconds, rest = divmod(ts_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, IST) + timedelta(microseconds=rest // 1_000)
    return moment.isoformat()


def _cell(value: Decimal | int | None) -> str:
    return "" if value is None else str(value)


def csv_row(tick: Tick) -> list[str]:
    return [
        iso_ist(tick.exchange_ts),
        str(tick.instrument_token),
        tick.symbol,
        str(tick.last_price),
        str(tick.volume),
        str(tick.last_quantity),
        _cell(tick.bid),
        _cell(tick.ask),
        str(tick.bid_quantity),
        str(tick.ask_quantity),
        _cell(tick.open),
        _cell(tick.high),
        _cell(tick.low),
        _cell(tick.close),
        _cell(tick.oi),
    ]


def write_csv(ticks: Iterable[Tick], path: Path) -> int:
    """Write ``ticks`` to ``path`` (gzipped when it ends in ``.gz``); returns the row count.

    Written beside the target and renamed into place, so a failed export never leaves a
    short file that looks complete.
    """
    temporary = path.with_name(path.name + ".part")
    rows = 0
    raw = gzip.open(temporary, "wb") if path.name.endswith(".gz") else temporary.open("wb")
    try:
        with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for tick in ticks:
                writer.writerow(csv_row(tick))
                rows += 1
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return rows
