"""Ticks and segment files for the tick-store tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engine.events.payloads import Tick
from storage.ticks.schema import TICK_SCHEMA, ticks_to_batch

DAY_START_NS = 1_767_240_900_000_000_000  # 2026-01-01 09:45 IST
SYMBOLS = {408065: "NSE:INFY", 2953217: "NSE:TCS"}


def make_ticks(count: int, *, start_ns: int = DAY_START_NS, step_ns: int = 1_000_000) -> list[Tick]:
    """``count`` ticks alternating between two instruments, one every ``step_ns``."""
    tokens = list(SYMBOLS)
    return [
        Tick(
            instrument_token=tokens[i % 2],
            symbol=SYMBOLS[tokens[i % 2]],
            last_price=Decimal("1500.05") + Decimal("0.05") * i,
            exchange_ts=start_ns + i * step_ns,
            volume=i,
        )
        for i in range(count)
    ]


def write_stream(path: Path, batches: list[list[Tick]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, TICK_SCHEMA) as writer:
        for ticks in batches:
            writer.write_batch(ticks_to_batch(ticks))


def write_parquet(path: Path, ticks: list[Tick]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_batches([ticks_to_batch(ticks)]), path)
