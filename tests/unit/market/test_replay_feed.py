"""Replayed ticks are validated row by row: bad rows are dead-lettered by line, good ones flow."""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from engine.bus.memory import MemoryBus
from engine.clock import IST, datetime_to_ns
from engine.events import topics
from engine.events.payloads import DeadLetter, Tick
from engine.instruments import load_default_registry
from engine.market.feeds import ReplayFeed, ReplayFormatError
from tests.helpers import eventually

REGISTRY = load_default_registry()
CSV = (
    "ts,instrument_token,symbol,last_price,volume,bid,ask\n"  # line 1
    "2024-01-15T09:15:00,738561,,2485.50,100,2485.45,2485.55\n"  # 2: naive = IST
    "2024-01-15T09:15:01+05:30,,NSE:INFY,1520.05,50,,\n"  # 3
    "2024-01-15T09:15:02,999999,,100.00,1,,\n"  # 4: unknown token
    "2024-01-15T09:15:03,738561,,-5.00,1,,\n"  # 5: negative price
    "2024-01-15T09:15:04,738561,,2485.53,1,,\n"  # 6: not a tick multiple
    "yesterday,738561,,2485.50,1,,\n"  # 7: unparseable time
    "2024-01-15T09:15:05,738561,,2485.60,-3,,\n"  # 8: negative volume
    "2024-01-15T03:45:06Z,,INFY,1520.10,60,1520.05,1520.15\n"  # 9: UTC, bare symbol
)


async def _replay(source: Path | list[bytes]) -> tuple[list[Tick], list[DeadLetter]]:
    bus = MemoryBus(partitions=1)
    ticks_sub = await bus.subscribe([topics.MARKET_TICKS], "probe")
    dlq_sub = await bus.subscribe([topics.dlq(topics.MARKET_TICKS)], "probe")
    feed = ReplayFeed(bus, REGISTRY, source)
    task = asyncio.create_task(feed.run())
    await eventually(feed.finished.is_set)
    await task
    ticks = [r.envelope.data for r in await ticks_sub.fetch(100, 0.05)]  # type: ignore[union-attr]
    letters = [r.envelope.data for r in await dlq_sub.fetch(100, 0.05)]  # type: ignore[union-attr]
    return ticks, letters  # type: ignore[return-value]


async def test_bad_rows_are_dead_lettered_with_line_numbers_and_good_rows_delivered() -> None:
    ticks, letters = await _replay(CSV.encode().splitlines())

    assert [(t.symbol, t.last_price) for t in ticks] == [
        ("NSE:RELIANCE", Decimal("2485.50")),
        ("NSE:INFY", Decimal("1520.05")),
        ("NSE:INFY", Decimal("1520.10")),
    ]
    errors = {letter.error.split(":")[0]: letter for letter in letters}
    assert sorted(errors) == ["line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "unknown instrument token 999999" in errors["line 4"].error
    assert "last_price must be positive" in errors["line 5"].error
    assert "not a multiple of tick size 0.05" in errors["line 6"].error
    assert "unparseable ts 'yesterday'" in errors["line 7"].error
    assert "volume must not be negative" in errors["line 8"].error
    assert errors["line 6"].original == b"2024-01-15T09:15:04,738561,,2485.53,1,,"
    assert {letter.processor for letter in letters} == {"replay-feed"}
    assert {letter.source_topic for letter in letters} == {topics.MARKET_TICKS}


async def test_naive_times_are_exchange_time_in_asia_kolkata(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode()))

    ticks, _ = await _replay(path)

    opening = datetime_to_ns(datetime(2024, 1, 15, 9, 15, tzinfo=IST))
    assert ticks[0].exchange_ts == opening
    assert ticks[1].exchange_ts == opening + 1_000_000_000
    assert ticks[2].exchange_ts == opening + 6_000_000_000  # 03:45:06Z is 09:15:06 IST
    assert ticks[0].bid == Decimal("2485.45") and ticks[0].volume == 100


def test_a_file_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("time,price\n2024-01-15T09:15:00,1.00\n")
    feed = ReplayFeed(MemoryBus(), REGISTRY, path)
    with pytest.raises(ReplayFormatError, match="ts, last_price, instrument_token or symbol"):
        list(feed.items())
    with pytest.raises(ReplayFormatError, match="not found"):
        ReplayFeed(MemoryBus(), REGISTRY, tmp_path / "missing.csv")
