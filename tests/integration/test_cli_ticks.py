"""``alphapanda ticks``: list, export, import and prune a recorded day through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import msgspec

from engine.events.payloads import Tick
from engine.instruments import load_default_registry
from engine.market.feeds.replay import iter_replay, read_lines
from storage.ticks.layout import ist_day
from storage.ticks.reader import iter_day_ticks
from storage.ticks.writer import TickWriter
from tests.integration.support import ALPHAPANDA, cli, engine_env
from tests.storage.ticks.support import DAY_START_NS, make_ticks

DAY = ist_day(DAY_START_NS).isoformat()


def _quoted(ticks: list[Tick]) -> list[Tick]:
    """Every third tick with a full quote and open interest, the rest bare (nulls kept)."""
    return [
        msgspec.structs.replace(
            t,
            bid=t.last_price - Decimal("0.05"),
            ask=t.last_price + Decimal("0.05"),
            bid_quantity=25,
            ask_quantity=40,
            open=Decimal("1500.00"),
            oi=1_200,
        )
        if i % 3 == 0
        else t
        for i, t in enumerate(ticks)
    ]


def _record(home: Path, ticks: list[Tick]) -> Path:
    root = home / "ticks" / "simulated"  # a paper engine on the simulated market
    writer = TickWriter(root)
    writer.write(ticks)
    writer.close()
    return root


def _listed(home: Path) -> list[dict[str, object]]:
    listing = cli(home, "ticks", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    return json.loads(listing.stdout)["days"]


def test_export_import_round_trip_keeps_every_tick_and_backtest_reads_the_export(
    tmp_path: Path,
) -> None:
    ticks = _quoted(make_ticks(600))
    root = _record(tmp_path, ticks)
    (day,) = _listed(tmp_path)
    assert (day["day"], day["ticks"], day["instruments"]) == (DAY, 600, 2)
    assert day["first"] == "2026-01-01T09:45:00+05:30"

    out = tmp_path / "day.csv.gz"
    exported = cli(tmp_path, "ticks", "export", DAY, str(out))
    assert exported.returncode == 0, exported.stderr
    parsed = list(iter_replay(read_lines(out), load_default_registry()))
    assert parsed == ticks  # the replay parser reads back exactly what was recorded
    tcs = tmp_path / "tcs.csv"
    assert cli(tmp_path, "ticks", "export", DAY, str(tcs), "--symbol", "NSE:TCS").returncode == 0
    only = list(iter_replay(read_lines(tcs), load_default_registry()))
    assert only == [t for t in ticks if t.symbol == "NSE:TCS"]

    pruned = cli(tmp_path, "ticks", "prune", "--day", DAY, "--yes")
    assert pruned.returncode == 0, pruned.stderr
    assert _listed(tmp_path) == []
    imported = cli(tmp_path, "ticks", "import", str(out))
    assert imported.returncode == 0, imported.stderr
    assert f"imported 600 ticks into {DAY}" in imported.stdout
    assert list(iter_day_ticks(root, ist_day(DAY_START_NS))) == ticks

    backtest = cli(tmp_path, "backtest", "--strategy", "fast-ema", "--ticks", str(out), "--json")
    assert backtest.returncode == 0, backtest.stderr
    summary = json.loads(backtest.stdout.strip().splitlines()[-1])
    assert (summary["ticks"], summary["dead_letters"]) == (600, 0)


def test_a_file_with_a_bad_row_is_refused_with_its_line_and_nothing_is_imported(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "ts,symbol,last_price\n"
        "2026-01-05T09:15:00,NSE:INFY,1580.25\n"
        "2026-01-05T09:15:01,NSE:INFY,1580.27\n"  # not on the 0.05 tick
        "2026-01-05T09:15:02,NSE:NOPE,10\n"
    )
    refused = cli(tmp_path, "ticks", "import", str(good))
    assert refused.returncode == 2
    assert "refused line 3: last_price 1580.27 is not a multiple of tick size" in refused.stderr
    assert "refused line 4:" in refused.stderr
    assert "2 rows refused; nothing imported" in refused.stderr
    assert _listed(tmp_path) == []
    skipped = cli(tmp_path, "ticks", "import", str(good), "--skip-bad")
    assert skipped.returncode == 0, skipped.stderr
    assert [d["ticks"] for d in _listed(tmp_path)] == [1]
    again = cli(tmp_path, "ticks", "import", str(good), "--skip-bad")
    assert again.returncode == 2
    assert "already recorded: 2026-01-05; prune those days first" in again.stderr
    assert [d["ticks"] for d in _listed(tmp_path)] == [1]  # never doubled


def test_prune_asks_unless_yes_and_unknown_days_list_the_recorded_ones(tmp_path: Path) -> None:
    _record(tmp_path, make_ticks(10))
    unconfirmed = cli(tmp_path, "ticks", "prune", "--day", DAY)
    assert unconfirmed.returncode == 2
    assert "pass --yes" in unconfirmed.stderr
    retention = cli(tmp_path, "ticks", "prune", "--yes", ALPHAPANDA_TICKS__RETENTION_DAYS="3")
    assert retention.returncode == 0 and f"deleted {DAY}" in retention.stdout  # long past
    live = TickWriter(tmp_path / "ticks" / "simulated")
    live.write(make_ticks(3))  # an engine still recording this day
    busy = cli(tmp_path, "ticks", "prune", "--day", DAY, "--yes")
    assert busy.returncode == 2
    assert f"{DAY} is being recorded by a running engine; stop it first" in busy.stderr
    assert [d["ticks"] for d in _listed(tmp_path)] == [3]
    live.close()
    missing = cli(tmp_path, "ticks", "export", "2026-01-09", str(tmp_path / "x.csv"))
    assert missing.returncode == 2
    assert "no ticks recorded on 2026-01-09" in missing.stderr
    assert f"recorded days: {DAY}" in missing.stderr


def test_list_prints_a_table_a_trader_reads(tmp_path: Path) -> None:
    _record(tmp_path, make_ticks(1_234))
    listing = cli(tmp_path, "ticks", "list")
    assert listing.returncode == 0, listing.stderr
    assert f"tick store: {tmp_path / 'ticks' / 'simulated'}" in listing.stdout
    (row,) = [line for line in listing.stdout.splitlines() if DAY in line]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[:3] == [DAY, "1,234", "2"]
    assert cells[3].endswith(" KB")
    assert cells[4:] == ["09:45:00", "09:45:01"]  # 1,234 ticks a millisecond apart


def _prune_at_a_terminal(home: Path, answer: bytes) -> subprocess.CompletedProcess[str]:
    """``ticks prune --day DAY`` with a terminal on stdin that types ``answer``."""
    main, terminal = os.openpty()
    try:
        os.write(main, answer)
        return subprocess.run(
            [str(ALPHAPANDA), "ticks", "prune", "--day", DAY],
            stdin=terminal,
            env=engine_env(home),
            cwd=home,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(main)
        os.close(terminal)


def test_prune_at_a_terminal_deletes_only_when_the_trader_says_yes(tmp_path: Path) -> None:
    _record(tmp_path, make_ticks(10))
    kept = _prune_at_a_terminal(tmp_path, b"n\n")
    assert kept.returncode == 1
    assert f"delete 1 recorded day(s) ({DAY})? [y/N] nothing deleted" in kept.stdout
    assert [d["ticks"] for d in _listed(tmp_path)] == [10]
    deleted = _prune_at_a_terminal(tmp_path, b"y\n")
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted {DAY}" in deleted.stdout
    assert _listed(tmp_path) == []


def test_export_takes_a_symbol_as_the_other_commands_do_and_refuses_an_unknown_one(
    tmp_path: Path,
) -> None:
    ticks = make_ticks(60)
    _record(tmp_path, ticks)
    bare = tmp_path / "tcs.csv"
    exported = cli(tmp_path, "ticks", "export", DAY, str(bare), "--symbol", "tcs")
    assert exported.returncode == 0, exported.stderr
    only = list(iter_replay(read_lines(bare), load_default_registry()))
    assert only and only == [t for t in ticks if t.symbol == "NSE:TCS"]

    unknown = cli(tmp_path, "ticks", "export", DAY, str(tmp_path / "x.csv"), "--symbol", "TSC")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "alphapanda: unknown instrument 'TSC' (not in the registry)"
    assert not (tmp_path / "x.csv").exists()
