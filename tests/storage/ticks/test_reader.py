"""A recorded day reads back whole, in time order, whatever state its segments are in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from engine.events.payloads import Tick
from storage.ticks.layout import ist_day
from storage.ticks.reader import iter_day_tables, iter_day_ticks, list_days, read_day
from tests.storage.ticks.support import DAY_START_NS, make_ticks, write_parquet, write_stream

DAY = ist_day(DAY_START_NS)


def test_sealed_and_live_segments_of_a_day_merge_in_time_order(tmp_path: Path) -> None:
    ticks = make_ticks(30)
    write_parquet(tmp_path / DAY.isoformat() / "091500-1-0001.parquet", ticks[10:20])
    write_stream(tmp_path / DAY.isoformat() / "091500-1-0002.arrows", [ticks[20:], ticks[:10]])
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_ticks_at_the_same_time_keep_recording_order(tmp_path: Path) -> None:
    ticks = make_ticks(6, step_ns=0)
    write_stream(tmp_path / DAY.isoformat() / "a.arrows", [ticks[:3]])
    write_stream(tmp_path / DAY.isoformat() / "b.arrows", [ticks[3:]])
    assert [t.last_price for t in iter_day_ticks(tmp_path, DAY)] == [t.last_price for t in ticks]


def test_a_torn_last_batch_ends_the_segment_and_keeps_every_whole_one(tmp_path: Path) -> None:
    ticks = make_ticks(300)
    path = tmp_path / DAY.isoformat() / "seg.arrows"
    write_stream(path, [ticks[:100], ticks[100:200], ticks[200:]])
    whole = path.stat().st_size
    with path.open("r+b") as handle:  # cut into the third batch, as a kill mid-write would
        handle.truncate(whole - 700)
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks[:200]


def test_a_stream_cut_inside_its_schema_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / DAY.isoformat() / "seg.arrows"
    write_stream(path, [make_ticks(5)])
    path.write_bytes(path.read_bytes()[:20])
    assert read_day(tmp_path, DAY).num_rows == 0


def test_a_stream_left_beside_its_sealed_twin_is_not_counted_twice(tmp_path: Path) -> None:
    ticks = make_ticks(10)
    write_stream(tmp_path / DAY.isoformat() / "seg.arrows", [ticks])
    write_parquet(tmp_path / DAY.isoformat() / "seg.parquet", ticks)
    (tmp_path / DAY.isoformat() / "seg2.parquet.tmp").write_bytes(b"half a file")
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_a_day_can_be_read_for_some_symbols_only(tmp_path: Path) -> None:
    ticks = make_ticks(10)
    write_stream(tmp_path / DAY.isoformat() / "seg.arrows", [ticks])
    got = list(iter_day_ticks(tmp_path, DAY, symbols=["NSE:TCS"]))
    assert got == [t for t in ticks if t.symbol == "NSE:TCS"]


def test_list_days_counts_ticks_instruments_bytes_and_the_time_span(tmp_path: Path) -> None:
    first = make_ticks(10)
    later = make_ticks(4, start_ns=DAY_START_NS + 86_400 * 10**9)
    write_stream(tmp_path / DAY.isoformat() / "seg.arrows", [first[:5], first[5:]])
    write_parquet(tmp_path / ist_day(later[0].exchange_ts).isoformat() / "seg.parquet", later)
    (tmp_path / "not-a-day").mkdir()
    summaries = list_days(tmp_path)
    assert [(s.day, s.ticks, s.instruments) for s in summaries] == [
        (DAY, 10, 2),
        (ist_day(later[0].exchange_ts), 4, 2),
    ]
    assert summaries[0].first_ts == first[0].exchange_ts
    assert summaries[0].last_ts == first[-1].exchange_ts
    assert summaries[0].bytes == (tmp_path / DAY.isoformat() / "seg.arrows").stat().st_size


def segments_in_turn(day: Path, ticks: list[Tick]) -> None:
    write_parquet(day / "091500-1-0001.parquet", ticks[:20])
    write_stream(day / "091500-1-0002.arrows", [ticks[20:23], ticks[23:35], ticks[35:]])


def segments_overlapping(day: Path, ticks: list[Tick]) -> None:
    write_parquet(day / "091500-1-0001.parquet", ticks[10:20])
    write_stream(day / "091500-1-0002.arrows", [ticks[20:], ticks[:10]])


@pytest.mark.parametrize("layout", [segments_in_turn, segments_overlapping])
@pytest.mark.parametrize("rows", [1, 7, 64])
def test_a_day_read_a_chunk_at_a_time_is_the_whole_day_in_order(
    tmp_path: Path, layout: Callable[[Path, list[Tick]], None], rows: int
) -> None:
    layout(tmp_path / DAY.isoformat(), make_ticks(50))

    chunks = list(iter_day_tables(tmp_path, DAY, rows=rows))

    assert rows >= 50 or max(c.num_rows for c in chunks) < 50  # never the day in one piece
    assert pa.concat_tables(chunks).equals(read_day(tmp_path, DAY))
    tcs = list(iter_day_tables(tmp_path, DAY, symbols=["NSE:TCS"], rows=rows))
    assert pa.concat_tables(tcs).equals(read_day(tmp_path, DAY, symbols=["NSE:TCS"]))


def test_a_missing_store_lists_no_days_and_reads_no_ticks(tmp_path: Path) -> None:
    assert list_days(tmp_path / "absent") == []
    assert list(iter_day_ticks(tmp_path / "absent", DAY)) == []
