"""``{home}/engine.pid``: which process runs the engine, verified before it is trusted.

The file holds the pid and that process's start time. A pid alone lies after a crash:
the kernel reuses pids, so a stale file could name an unrelated live process and make
``status`` say "running" or ``kill`` promise that an engine applies the halt. A pid is
believed only while a process with that pid exists *and* started at the recorded time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PID_FILE_NAME = "engine.pid"


def pid_file(home: Path) -> Path:
    return home / PID_FILE_NAME


def process_start_time(pid: int) -> str | None:
    """When ``pid`` started, as an opaque token that differs for a reused pid; None if gone.

    Linux: field 22 of ``/proc/<pid>/stat`` (clock ticks since boot, exact); elsewhere
    psutil's ``create_time``.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None  # procfs is there and the process is not
        return _psutil_start_time(pid)
    except OSError:
        return _psutil_start_time(pid)
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces
    return f"ticks:{fields[19]}" if len(fields) > 19 else None


def _psutil_start_time(pid: int) -> str | None:
    import psutil

    try:
        return f"epoch:{psutil.Process(pid).create_time():.2f}"
    except (psutil.Error, OSError):
        return None


def write_pid(home: Path) -> None:
    """Record this process (pid and start time), atomically and owner-only."""
    pid = os.getpid()
    text = f"{pid}\n{process_start_time(pid) or ''}\n"
    try:
        fd, tmp = tempfile.mkstemp(dir=home, prefix=".engine-pid-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, pid_file(home))
    except OSError:
        pass


def remove_pid(home: Path) -> None:
    """Remove the file if it names this process (another engine's file is left alone)."""
    path = pid_file(home)
    try:
        if _read(path)[0] == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_engine_pid(home: Path) -> int | None:
    """The pid of the engine using this home, or None when none runs.

    None for a missing or malformed file, a dead pid, or a live pid whose start time is
    not the recorded one (the engine died and the pid was reused).
    """
    try:
        pid, started = _read(pid_file(home))
    except (OSError, ValueError):
        return None
    if not started or process_start_time(pid) != started:
        return None
    return pid


def refuse_a_second_engine(home: Path, bus_backend: str) -> None:
    """Stop (one line, exit 2) before an engine starts where one already runs on ``home``.

    On the in-process bus each process runs the whole engine: a console opened on the home
    of a running ``alphapanda engine`` traded the same paper account beside it, so every
    order went out twice and each portfolio stored positions from half the fills. On Kafka
    the cluster's leases share the work among processes, so several are expected there.
    """
    if bus_backend != "memory":
        return
    pid = running_engine_pid(home)
    if pid is None or pid == os.getpid():
        return
    from alphapanda_tui.errors import UsageError

    raise UsageError(
        f"an engine is already running on {home} (pid {pid}); a second one would trade the "
        "same account twice: use that one (alphapanda status, orders, positions, kill) or "
        "stop it first"
    )


def _read(path: Path) -> tuple[int, str]:
    lines = path.read_text().splitlines()
    if not lines:
        raise ValueError("empty pid file")
    return int(lines[0].strip()), (lines[1].strip() if len(lines) > 1 else "")
