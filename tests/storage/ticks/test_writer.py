"""The writer leaves a readable day behind whatever happens to the process."""

from __future__ import annotations

import fcntl
from datetime import date, datetime
from pathlib import Path

import pytest

from engine.clock import IST, datetime_to_ns
from storage.ticks.layout import ist_day
from storage.ticks.reader import iter_day_ticks, list_days
from storage.ticks.retention import expired_days, prune
from storage.ticks.writer import TickWriter, _LiveSegment, recover
from tests.storage.ticks.support import DAY_START_NS, make_ticks, write_stream

DAY = ist_day(DAY_START_NS)
NS_PER_DAY = 86_400 * 10**9


def _files(root: Path, day: date = DAY) -> list[str]:
    return sorted(p.suffix for p in (root / day.isoformat()).iterdir())


def test_a_clean_close_leaves_one_sealed_parquet_segment_holding_every_tick(tmp_path: Path) -> None:
    ticks = make_ticks(50)
    writer = TickWriter(tmp_path)
    writer.write(ticks[:20])
    writer.write(ticks[20:])
    assert _files(tmp_path) == [".arrows"]  # live while recording
    writer.close()
    assert _files(tmp_path) == [".parquet"]
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_every_write_is_readable_before_the_segment_is_sealed(tmp_path: Path) -> None:
    ticks = make_ticks(30)
    writer = TickWriter(tmp_path)
    writer.write(ticks[:10])
    writer.write(ticks[10:])
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks
    writer.close()


def test_a_full_segment_is_sealed_and_the_next_ticks_open_another(tmp_path: Path) -> None:
    ticks = make_ticks(25)
    writer = TickWriter(tmp_path, rotate_ticks=10)
    for start in range(0, 25, 5):
        writer.write(ticks[start : start + 5])
    assert _files(tmp_path) == [".arrows", ".parquet", ".parquet"]
    writer.close()
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_ticks_are_filed_under_their_ist_day_and_a_new_day_seals_the_last(tmp_path: Path) -> None:
    today = make_ticks(4)
    tomorrow = make_ticks(4, start_ns=DAY_START_NS + NS_PER_DAY)
    writer = TickWriter(tmp_path)
    writer.write(today[:2] + tomorrow[:2])
    assert _files(tmp_path) == [".parquet"]  # the older day is finished
    writer.write(tomorrow[2:])
    writer.close()
    assert [(s.day, s.ticks) for s in list_days(tmp_path)] == [
        (DAY, 2),
        (ist_day(tomorrow[0].exchange_ts), 4),
    ]


def test_ticks_either_side_of_ist_midnight_go_to_their_own_day_in_order(
    tmp_path: Path,
) -> None:
    midnight = datetime(2026, 1, 2, tzinfo=IST)  # 18:30 UTC the day before
    ticks = make_ticks(6, start_ns=datetime_to_ns(midnight) - 3_000_000)  # 1 ms apart
    mixed = [ticks[4], ticks[0], ticks[3], ticks[1], ticks[5], ticks[2]]  # any order in
    writer = TickWriter(tmp_path)
    writer.write(mixed)
    writer.close()
    assert [ist_day(t.exchange_ts) for t in ticks] == [date(2026, 1, 1)] * 3 + [
        date(2026, 1, 2)
    ] * 3
    assert list(iter_day_ticks(tmp_path, date(2026, 1, 1))) == ticks[:3]
    assert list(iter_day_ticks(tmp_path, date(2026, 1, 2))) == ticks[3:]


def test_recovery_seals_a_dead_writers_stream_and_keeps_its_ticks(tmp_path: Path) -> None:
    ticks = make_ticks(20)
    write_stream(tmp_path / DAY.isoformat() / "dead.arrows", [ticks[:10], ticks[10:]])
    (tmp_path / DAY.isoformat() / "dead.parquet.tmp").write_bytes(b"an interrupted seal")
    sealed = recover(tmp_path)
    assert [p.name for p in sealed] == ["dead.parquet"]
    assert _files(tmp_path) == [".parquet"]
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_recovery_drops_a_stream_that_was_already_sealed(tmp_path: Path) -> None:
    ticks = make_ticks(5)
    writer = TickWriter(tmp_path)
    writer.write(ticks)
    writer.close()
    (sealed,) = (tmp_path / DAY.isoformat()).iterdir()
    write_stream(sealed.with_suffix(".arrows"), [ticks])  # crash between rename and unlink
    recover(tmp_path)
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_recovery_leaves_a_segment_another_writer_still_holds(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.write(make_ticks(5))
    assert recover(tmp_path) == []
    assert _files(tmp_path) == [".arrows"]
    writer.close()


def test_a_segment_locked_by_its_writer_refuses_a_second_lock(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    writer.write(make_ticks(1))
    (live,) = (tmp_path / DAY.isoformat()).iterdir()
    with live.open("rb") as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    writer.close()


def test_retention_keeps_the_last_n_days_today_included(tmp_path: Path) -> None:
    writer = TickWriter(tmp_path)
    for offset in range(5):
        writer.write(make_ticks(2, start_ns=DAY_START_NS + offset * NS_PER_DAY))
    writer.close()
    last = ist_day(DAY_START_NS + 4 * NS_PER_DAY)
    old = expired_days(tmp_path, retention_days=3, today=last)
    assert [d.isoformat() for d in old] == ["2026-01-01", "2026-01-02"]
    prune(tmp_path, old)
    assert [s.day.isoformat() for s in list_days(tmp_path)] == [
        "2026-01-03",
        "2026-01-04",
        "2026-01-05",
    ]
    with pytest.raises(ValueError, match="at least 1"):
        expired_days(tmp_path, retention_days=0, today=last)


def test_a_failed_write_never_hides_the_ticks_written_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = make_ticks(30)
    writer = TickWriter(tmp_path)
    writer.write(ticks[:10])
    real_append = _LiveSegment.append

    def torn_append(segment: _LiveSegment, batch: object) -> None:
        segment._file.write(b"\xff\xff\xff\xff half a batch")  # the disk filled mid-write
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_LiveSegment, "append", torn_append)
    with pytest.raises(OSError, match="No space"):
        writer.write(ticks[10:20])
    monkeypatch.setattr(_LiveSegment, "append", real_append)
    writer.write(ticks[20:])
    writer.close()
    recover(tmp_path)
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks[:10] + ticks[20:]
    assert _files(tmp_path) == [".parquet", ".parquet"]


def test_a_seal_that_fails_leaves_the_stream_readable_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = make_ticks(20)
    writer = TickWriter(tmp_path)
    writer.write(ticks)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("storage.ticks.writer.pq.write_table", disk_full)
    writer.close()  # does not raise: the ticks are on disk already
    assert _files(tmp_path) == [".arrows"]
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks
    monkeypatch.undo()
    recover(tmp_path)
    assert _files(tmp_path) == [".parquet"]
    assert list(iter_day_ticks(tmp_path, DAY)) == ticks


def test_a_segment_stays_locked_while_its_writer_seals_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another engine starting meanwhile must not seal (or delete) it at the same time."""
    from storage.ticks import writer as writer_module

    locked_while_sealing: list[bool] = []
    real_seal = writer_module.seal_stream

    def watched_seal(stream: Path) -> Path | None:
        locked_while_sealing.append(writer_module.in_use(stream))
        return real_seal(stream)

    monkeypatch.setattr(writer_module, "seal_stream", watched_seal)
    writer = TickWriter(tmp_path)
    writer.write(make_ticks(5))
    writer.close()
    assert locked_while_sealing == [True]
    assert _files(tmp_path) == [".parquet"]


def test_a_tick_one_nanosecond_before_ist_midnight_is_filed_under_that_day() -> None:
    from datetime import date, datetime

    from engine.clock import IST
    from storage.ticks.layout import ist_day

    midnight_ns = int(datetime(2026, 12, 7, tzinfo=IST).timestamp()) * 1_000_000_000
    assert ist_day(midnight_ns - 1) == date(2026, 12, 6)
    assert ist_day(midnight_ns) == date(2026, 12, 7)
