"""The bad tick-file corpus through ``alphapanda backtest --ticks FILE --json``.

A bad row is a dead letter naming its line and the replay carries on: every good row is
replayed and the outcome is the clean file's (a 10x row is never traded on). A file that
cannot be read as ticks stops with one line and a non-zero exit: never a traceback, never
a partial replay that looks finished.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from engine.instruments import load_default_registry
from engine.market.feeds.base import RejectedRow
from engine.market.feeds.replay import iter_replay, read_lines
from tests.integration.support import ALPHAPANDA
from tests.integration.test_backtest import summary_of

BAD_LINE = 101  # the row inserted after 99 good rows and the header
LOCKSTEP = ("--sync-every", "1", "--json")  # lockstep: the same outcome on every run


def good_rows() -> list[str]:
    """A header and 240 INFY rows zig-zagging inside the NSE session of 2 Jan 2024."""
    rows = ["ts,symbol,last_price,bid,ask"]
    price = Decimal("1500.00")
    for n in range(240):
        price += Decimal("0.50") if (n // 40) % 2 == 0 else Decimal("-0.50")
        ts = f"2024-01-02T09:{20 + n // 60:02d}:{n % 60:02d}"
        rows.append(f"{ts},NSE:INFY,{price},{price - Decimal('0.05')},{price + Decimal('0.05')}")
    return rows


def with_row(row: bytes) -> bytes:
    rows = [line.encode() for line in good_rows()]
    rows.insert(BAD_LINE - 1, row)
    return b"\n".join(rows) + b"\n"


CLEAN = ("\n".join(good_rows()) + "\n").encode()
AT = b"2024-01-02T09:21:39,NSE:INFY,"
ROW_CASES: dict[str, bytes] = {
    "price-1e30": AT + b"1E+30,,",
    "field-200kb": AT + b"9" * 200_000 + b",,",
    "year-10000": b"10000-01-02T09:21:39,NSE:INFY,1520.00,,",
    "year-2100": b"2100-01-02T09:21:39,NSE:INFY,1520.00,,",
    "year-0001": b"0001-01-02T09:21:39,NSE:INFY,1520.00,,",
    "out-of-order": b"2024-01-02T09:20:05,NSE:INFY,1520.00,,",
    "ten-times-price": AT + b"15000.00,14999.95,15000.05",
    "nul-bytes": AT + b"15\x0020.00,,",
    "latin-1": AT + b"1520.00,caf\xe9,",
    "utf-16-row": "2024-01-02T09:21:39,NSE:INFY,1520.00,,".encode("utf-16"),
}
FILE_CASES: dict[str, Callable[[], bytes]] = {
    "binary": lambda: bytes(range(256)) * 64,
    "utf-16": lambda: CLEAN.decode().encode("utf-16"),
    "bad-gzip": lambda: b"\x1f\x8b\x08\x00" + b"not deflate at all" * 20,
    "truncated-gzip": lambda: gzip.compress(CLEAN)[:-200],
    "empty": lambda: b"",
    "header-only": lambda: b"ts,symbol,last_price\n",
    "wrong-header": lambda: b"when,what,how much\n2024-01-02T09:20:00,NSE:INFY,1500\n",
    "huge-header": lambda: b"ts," + b"x" * 300_000 + b"\n",
}


def backtest(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ALPHAPANDA), "backtest", "--strategy", "ema-cross", "--ticks", str(path), *LOCKSTEP],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
        check=False,
    )


@pytest.fixture(scope="module")
def clean_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("clean") / "ticks.csv"
    path.write_bytes(CLEAN)
    return summary_of(backtest(path))


GZIPPED_ROW_CASES = ("field-200kb", "year-10000", "ten-times-price")


@pytest.mark.parametrize(
    ("case", "gzipped"),
    [(case, False) for case in ROW_CASES] + [(case, True) for case in GZIPPED_ROW_CASES],
    ids=[*ROW_CASES, *(f"{case}-gz" for case in GZIPPED_ROW_CASES)],
)
def test_a_bad_row_is_a_dead_letter_with_its_line_and_the_run_carries_on(
    case: str, gzipped: bool, tmp_path: Path, clean_summary: dict[str, object]
) -> None:
    content = with_row(ROW_CASES[case])
    path = tmp_path / ("ticks.csv.gz" if gzipped else "ticks.csv")
    path.write_bytes(gzip.compress(content) if gzipped else content)

    rejected = [
        item
        for item in iter_replay(read_lines(path), load_default_registry())
        if isinstance(item, RejectedRow)
    ]
    summary = summary_of(backtest(path))

    assert [row.line for row in rejected] == [BAD_LINE]
    assert rejected[0].error.startswith(f"line {BAD_LINE}: ")
    assert (summary["ticks"], summary["dead_letters"]) == (240, 1)
    for figure in ("orders", "fills", "realized_pnl", "equity_end"):
        assert summary[figure] == clean_summary[figure], figure  # as if the row were absent


@pytest.mark.parametrize("case", FILE_CASES)
def test_a_file_that_is_not_ticks_stops_with_one_line(case: str, tmp_path: Path) -> None:
    suffix = ".csv.gz" if "gzip" in case else ".csv"
    path = tmp_path / f"ticks{suffix}"
    path.write_bytes(FILE_CASES[case]())

    run = backtest(path)

    assert run.returncode != 0
    assert run.stdout == ""  # no summary of a partial replay
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("alphapanda: ") and "Traceback" not in run.stderr
