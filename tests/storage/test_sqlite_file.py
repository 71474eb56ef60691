"""The embedded SQLite file: owner-only with its WAL companions, and checked at open."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from storage.migrate import upgrade_async
from storage.sqlite_file import DatabaseCorruptError, check_integrity
from storage.store import SqlTradingStore


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_and_its_wal_files_are_owner_only_even_under_umask_0(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "alphapanda.db"
    previous = os.umask(0o000)
    try:
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade_async(url)
        async with await SqlTradingStore.open(url) as store:
            await store.list_alerts(limit=1)
            companions = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in companions)  # WAL mode, open connection
            assert [_mode(p) for p in (path, *companions)] == [0o600, 0o600, 0o600]
    finally:
        os.umask(previous)
    assert _mode(path.parent) == 0o700


async def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "alphapanda.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    os.chmod(path, 0o644)
    async with await SqlTradingStore.open(url) as store:
        await store.list_alerts(limit=1)
    assert _mode(path) == 0o600


async def test_a_bad_page_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "alphapanda.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        + "".join(f"INSERT INTO notes (body) VALUES ('{'x' * 500}');" for _ in range(50))
    )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size, root = connection.execute(
        "SELECT (SELECT page_size FROM pragma_page_size), rootpage FROM sqlite_master "
        "WHERE name = 'notes'"
    ).fetchone()
    connection.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\x00\xff" * (page_size // 2))
    with pytest.raises(DatabaseCorruptError) as caught:
        await SqlTradingStore.open(url)
    message = str(caught.value)
    assert message.startswith(f"database {path} is corrupt (quick_check: ")
    assert message.endswith("restore it from a backup or move it aside")
    assert "\n" not in message


def test_a_sound_or_missing_file_passes(tmp_path: Path) -> None:
    check_integrity(tmp_path / "absent.db")
    sound = tmp_path / "sound.db"
    connection = sqlite3.connect(sound)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    check_integrity(sound)
