"""Recorded ticks as a backtest source, through the real console script.

``backtest --day DATE`` replays what the tick store recorded that day and must tell the
same story as ``backtest --ticks`` on the CSV ``ticks export`` writes of that day. A bad
row in a Parquet or Arrow-stream file is a dead letter, as in a CSV, and the outcome is
the clean file's; a file of another schema is refused in one line before anything runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from alphapanda_tui.settings import Settings
from alphapanda_tui.tick_store import ticks_root
from engine.events.payloads import Tick
from engine.instruments import load_default_registry
from engine.market.feeds.replay import iter_replay
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from storage.ticks.schema import TICK_SCHEMA, ticks_to_batch
from storage.ticks.writer import TickWriter
from tests.integration.support import ALPHAPANDA
from tests.integration.test_backtest import backtest, summary_of
from tests.integration.test_bad_tick_files import BAD_LINE, good_rows

DAY = date(2024, 1, 2)
# ema-cross on every tick (not its bundled 5-minute bars): each of these small files must
# make it trade, and the comparisons are tick by tick.
LOCKSTEP = (
    *("--strategy", "ema-cross", "--bars", "tick"),
    *("--sync-every", "1", "--json", "--no-progress"),
)
TIMING = {"source", "seconds", "ticks_per_s", "cpu_seconds", "max_rss_mb"}
BAD_INDEX = BAD_LINE - 2  # the same row as the CSV corpus's: without header, from 0


def day_ticks(count: int) -> list[Tick]:
    """``count`` seeded ticks of the ema-cross instruments inside the session of ``DAY``."""
    config = SimulatedFeedConfig(
        seed=11,
        instruments=("NSE:RELIANCE", "NSE:INFY", "NSE:HDFCBANK"),
        ticks_per_second=None,
        max_ticks=count,
        start_date=DAY,
        clock_mode="compressed",
        rounds_per_session=count,
    )
    return list(iter_ticks(load_default_registry(), config))


def record(root: Path, ticks: list[Tick]) -> None:
    """As the recorder files them: sealed Parquet segments, and a live stream left open."""
    sealed = TickWriter(root, rotate_ticks=1_000)
    half = len(ticks) // 2
    for start in range(0, half, 250):
        sealed.write(ticks[start : min(start + 250, half)])
    sealed.close()
    live = TickWriter(root)
    live.write(ticks[half:])  # never closed: the day ends in an unsealed .arrows segment


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ALPHAPANDA), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_recorded_day_backtests_as_its_exported_csv(tmp_path: Path) -> None:
    root = ticks_root(Settings())
    record(root, day_ticks(3_000))
    csv_path = tmp_path / "day.csv"
    assert run("ticks", "export", DAY.isoformat(), str(csv_path)).returncode == 0
    assert {p.suffix for p in (root / DAY.isoformat()).iterdir()} == {".parquet", ".arrows"}

    from_day = summary_of(backtest("--day", DAY.isoformat(), *LOCKSTEP))
    from_csv = summary_of(backtest("--ticks", str(csv_path), *LOCKSTEP))

    assert from_day["source"] == f"day:{DAY.isoformat()}"
    assert from_day["ticks"] == 3_000 and int(str(from_day["orders"])) > 20
    assert {k: v for k, v in from_day.items() if k not in TIMING} == {
        k: v for k, v in from_csv.items() if k not in TIMING
    }


def test_a_day_nothing_was_recorded_on_is_refused_naming_the_recorded_days() -> None:
    record(ticks_root(Settings()), day_ticks(100))

    refused = backtest("--day", "2024-01-03", *LOCKSTEP)

    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == (
        "alphapanda: no ticks recorded on 2024-01-03; recorded days: 2024-01-02"
    )


def clean_ticks() -> list[Tick]:
    """The bad-file corpus's 240 clean INFY rows, as ticks."""
    lines = [row.encode() for row in good_rows()]
    ticks = [t for t in iter_replay(lines, load_default_registry()) if isinstance(t, Tick)]
    assert len(ticks) == 240
    return ticks


Row = dict[str, Any]
BAD_CELLS: dict[str, Callable[[Row, Row], Row]] = {  # (row before, row before that) -> cells
    "ten-times-price": lambda prev, _: {"last": prev["last"] * 10},
    "off-the-tick-grid": lambda prev, _: {"last": prev["last"] + 1},
    "non-positive-price": lambda prev, _: {"last": 0},
    "out-of-order": lambda _, before: {"ts": before["ts"] - 1},
    "unknown-instrument": lambda prev, _: {"token": 999_999},
    "crossed-quote": lambda prev, _: {"bid": prev["ask"] + 500},
    "negative-volume": lambda prev, _: {"volume": -5},
}


def write_with_bad_row(path: Path, case: str) -> None:
    """The clean rows with one more at ``BAD_INDEX``: a copy of the row before, spoiled."""
    rows = ticks_to_batch(clean_ticks()).to_pylist()
    previous, before = rows[BAD_INDEX - 1], rows[BAD_INDEX - 2]
    rows.insert(BAD_INDEX, previous | BAD_CELLS[case](previous, before))
    table = pa.Table.from_pylist(rows, schema=TICK_SCHEMA)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, TICK_SCHEMA) as writer:
            writer.write_table(table)


@pytest.fixture(scope="module")
def clean_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("clean") / "clean.parquet"
    pq.write_table(pa.Table.from_batches([ticks_to_batch(clean_ticks())]), path)
    return summary_of(backtest("--ticks", str(path), *LOCKSTEP))


@pytest.mark.parametrize(
    ("case", "suffix"),
    [(case, ".parquet") for case in BAD_CELLS] + [("ten-times-price", ".arrows")],
)
def test_a_bad_row_in_a_columnar_file_is_a_dead_letter_and_the_run_carries_on(
    case: str, suffix: str, tmp_path: Path, clean_summary: dict[str, object]
) -> None:
    path = tmp_path / f"ticks{suffix}"
    write_with_bad_row(path, case)

    summary = summary_of(backtest("--ticks", str(path), *LOCKSTEP))

    assert (summary["ticks"], summary["dead_letters"]) == (240, 1)
    assert clean_summary["orders"] and summary["dead_letters"] == 1
    for figure in ("orders", "fills", "realized_pnl", "equity_end"):
        assert summary[figure] == clean_summary[figure], figure  # as if the row were absent


@pytest.mark.parametrize("suffix", [".parquet", ".arrows"])
def test_a_file_of_another_schema_is_refused_in_one_line(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"quotes{suffix}"
    table = pa.table({"time": ["09:15"], "ticker": ["INFY"], "price": [1520.05]})
    if suffix == ".parquet":
        pq.write_table(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)

    refused = backtest("--ticks", str(path), *LOCKSTEP)

    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith(f"alphapanda: {path}: not an AlphaPanda tick file: no column ts, ")
    assert line.endswith("unexpected column time, ticker, price")


def test_a_columnar_name_on_a_file_that_is_not_arrow_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ticks.parquet"
    path.write_bytes(b"ts,symbol,last_price\n2024-01-02T09:15:00,NSE:INFY,1520.05\n")

    refused = backtest("--ticks", str(path), *LOCKSTEP)

    assert refused.returncode == 2 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith(f"alphapanda: {path}: not a readable Arrow/Parquet file")
