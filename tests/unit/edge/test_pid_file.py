"""The engine pid file is believed only for the process that wrote it (pid + start time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alphapanda_tui.pid_file import (
    pid_file,
    process_start_time,
    remove_pid,
    running_engine_pid,
    write_pid,
)

SCRIPT = Path(sys.executable).with_name("alphapanda")


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not an engine: what a reused pid points at."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_this_process_is_recognised_and_removes_only_its_own_file(tmp_path: Path) -> None:
    write_pid(tmp_path)
    assert running_engine_pid(tmp_path) == os.getpid()
    remove_pid(tmp_path)
    assert not pid_file(tmp_path).exists()
    assert running_engine_pid(tmp_path) is None


def test_a_reused_pid_is_not_an_engine(
    tmp_path: Path, other_process: subprocess.Popen[bytes]
) -> None:
    started = process_start_time(other_process.pid)
    assert started is not None
    pid_file(tmp_path).write_text(f"{other_process.pid}\n{started}\n")
    assert running_engine_pid(tmp_path) == other_process.pid  # the same process: believed
    stale = "ticks:1" if started.startswith("ticks:") else "epoch:1.00"
    pid_file(tmp_path).write_text(f"{other_process.pid}\n{stale}\n")  # an engine long gone
    assert running_engine_pid(tmp_path) is None


@pytest.mark.parametrize("content", ["{pid}", "{pid}\n\n", "", "not a pid\n", "999999999\nx\n"])
def test_an_unverifiable_pid_file_is_not_trusted(
    tmp_path: Path, other_process: subprocess.Popen[bytes], content: str
) -> None:
    pid_file(tmp_path).write_text(content.format(pid=other_process.pid))
    assert running_engine_pid(tmp_path) is None


def test_remove_leaves_another_engines_file(
    tmp_path: Path, other_process: subprocess.Popen[bytes]
) -> None:
    pid_file(tmp_path).write_text(f"{other_process.pid}\n{process_start_time(other_process.pid)}\n")
    remove_pid(tmp_path)
    assert pid_file(tmp_path).exists()


def test_status_does_not_believe_a_stale_pid_file_after_pid_reuse(
    isolated_home: Path, other_process: subprocess.Popen[bytes]
) -> None:
    """Through the console script: the file names a live process that started later."""
    env = {**os.environ, "ALPHAPANDA_HOME": str(isolated_home)}
    pid_file(isolated_home).write_text(f"{other_process.pid}\nticks:1\n")
    result = subprocess.run(
        [str(SCRIPT), "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["engine"] == {"running": False, "pid": None}

    started = process_start_time(other_process.pid)
    pid_file(isolated_home).write_text(f"{other_process.pid}\n{started}\n")
    result = subprocess.run(
        [str(SCRIPT), "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert json.loads(result.stdout)["engine"] == {"running": True, "pid": other_process.pid}
