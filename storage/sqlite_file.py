"""The embedded SQLite file: created owner-only, and checked before anything trusts it.

The file holds every order, fill and account figure, so it (and its ``-wal``/``-shm``
companions, which SQLite creates with the database file's permissions) is ``0600`` in
a ``0700`` directory. A file with a bad page makes services crash-loop on whatever
they read next; ``PRAGMA quick_check`` at open turns that into one clear refusal.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")

# (path, size, mtime_ns) of files that passed in this process: one check per open, not
# one per engine built over the same unchanged file (status, migrations, the store).
_checked: set[tuple[str, int, int]] = set()


class DatabaseCorruptError(Exception):
    """The SQLite file fails ``PRAGMA quick_check`` or is not a database at all."""


def prepare_private_file(path: Path) -> None:
    """Create ``path`` (and its directory) owner-only; tighten a looser existing file."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=OWNER_ONLY_DIR)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, OWNER_ONLY_FILE)
    finally:
        os.close(fd)
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            if stat.S_IMODE(companion.stat().st_mode) & 0o077:
                os.chmod(companion, OWNER_ONLY_FILE)
        except FileNotFoundError:
            continue


def check_integrity(path: Path) -> None:
    """Raise ``DatabaseCorruptError`` unless ``PRAGMA quick_check`` says ok.

    A missing or empty file is fine (it is about to be created); the check reads every
    page once, so a repeat on an unchanged file in the same process is skipped.
    """
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    key = (str(path), status.st_size, status.st_mtime_ns)
    if status.st_size == 0 or key in _checked:
        return
    problems = _quick_check(path)
    if problems:
        more = f"; {len(problems) - 1} more" if len(problems) > 1 else ""
        first = " ".join(problems[0].split())
        raise DatabaseCorruptError(
            f"database {path} is corrupt (quick_check: {first}{more}): "
            "restore it from a backup or move it aside"
        )
    _checked.add(key)


def _quick_check(path: Path) -> list[str]:
    """The problems ``quick_check`` lists (empty when the file is sound)."""
    try:
        with _connected(path) as connection:
            rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed", ...
        return [str(exc)]
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


class _connected:
    """A short connection that never creates the file and is always closed (sqlite3's
    own ``with`` only commits). Read-write: a read-only one cannot open a WAL database
    whose ``-shm`` is missing."""

    def __init__(self, path: Path) -> None:
        uri = f"{path.resolve().as_uri()}?mode=rw"
        self.connection = sqlite3.connect(uri, uri=True, timeout=30)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()
