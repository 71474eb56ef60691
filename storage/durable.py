"""Files that survive a crash: a new name in a folder (a created, renamed or removed file)
is on disk only once the folder itself is fsynced."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """fsync ``directory``, so the names created, renamed or removed in it are on disk."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_durably(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary file beside ``path``, fsync it, rename it over ``path``, fsync
    the folder: a reader sees the old file or the whole new one, even after a crash."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.replace(path)
    fsync_dir(path.parent)
