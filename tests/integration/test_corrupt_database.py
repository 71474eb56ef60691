"""A SQLite file with one bad page is refused by every command that opens it.

The engine writes a real journal, stops; one page of the ``fills`` table is then
overwritten, as a failing disk would. The engine, the console, ``status`` and ``kill``
must each say so in one line and exit 2, instead of saying "running" while execution
and portfolio crash-loop on the bad page.
"""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from tests.integration.support import EngineProcess, SqliteDb, cli, poll

pytestmark = pytest.mark.slow


async def _journal_written_by_the_engine(home: Path) -> Path:
    path = home / "alphapanda.db"
    db = SqliteDb(path)
    engine = EngineProcess.start(home)
    try:
        await engine.started()
        await poll(lambda: db.count("fills") >= 3, 20, "the engine trading")
        assert engine.terminate() == 0, engine.output[-2000:]
    finally:
        engine.close()
    return path


def _corrupt_one_page_of_fills(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE type='table' AND name='fills'"
        ).fetchone()[0]
    finally:
        connection.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xa5" * page_size)


def _refusal(result: subprocess.CompletedProcess[str], path: Path) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("alphapanda:")]
    assert len(lines) == 1, result.stderr
    assert f"database {path} is corrupt (quick_check: " in lines[0]
    return lines[0]


async def test_every_command_refuses_a_database_with_a_bad_page(isolated_home: Path) -> None:
    path = await _journal_written_by_the_engine(isolated_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    _corrupt_one_page_of_fills(path)

    for args in (("status", "--json"), ("kill",), ("engine", "--max-seconds", "20"), ()):
        result = cli(isolated_home, *args)
        _refusal(result, path)
        assert "engine running" not in result.stderr
    assert not (isolated_home / "engine.pid").exists()


async def test_a_file_that_is_not_a_database_is_refused(isolated_home: Path) -> None:
    path = isolated_home / "alphapanda.db"
    path.write_bytes(b"these are not the pages you are looking for\n" * 200)
    result = cli(isolated_home, "status")
    assert "is corrupt (quick_check: file is not a database)" in _refusal(result, path)
