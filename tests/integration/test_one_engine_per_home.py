"""One embedded engine per home: a second ``alphapanda`` or ``alphapanda engine`` on the same
home and in-process bus is refused before it trades.

Seen in tmux: with ``alphapanda engine`` running on a home, ``alphapanda`` on the same home
opened a console with an engine of its own. Both ran the simulated market and every
strategy on the same paper account, so every order went out twice (rsi bought 10
AXISBANK at 10:06 from each process), each portfolio wrote the stored positions from
half the fills (SBIN +20 stored where +40 was held), and ``engine.pid`` named only the
newer process, so ``kill`` reached one of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support import EngineProcess, SqliteDb, cli

pytestmark = pytest.mark.slow


async def test_a_second_engine_or_console_on_the_home_is_refused_in_one_line(
    isolated_home: Path,
) -> None:
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        orders_before = SqliteDb(isolated_home / "alphapanda.db").count("orders")
        for command in (["engine", "--max-seconds", "3"], ["tui"], []):
            second = cli(isolated_home, *command)
            assert second.returncode == 2, (command, second.stdout, second.stderr[-2000:])
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1, (command, second.stderr[-2000:])
            assert f"an engine is already running on {isolated_home} (pid {engine.pid})" in lines[0]
            assert "Traceback" not in second.stderr
        pid_line = (isolated_home / "engine.pid").read_text().splitlines()[0]
        assert pid_line == str(engine.pid)  # still the engine that runs: kill reaches it
        assert engine.process.poll() is None
        assert SqliteDb(isolated_home / "alphapanda.db").count("orders") >= orders_before
    finally:
        engine.close()


async def test_an_engine_starts_where_the_last_one_was_killed(isolated_home: Path) -> None:
    """A SIGKILLed engine leaves its pid file behind; it names a dead process: no refusal."""
    first = EngineProcess.start(isolated_home)
    try:
        await first.started()
        first.kill()
    finally:
        first.close()
    second = EngineProcess.start(isolated_home, run=2)
    try:
        await second.started()
        pid_line = (isolated_home / "engine.pid").read_text().splitlines()[0]
        assert pid_line == str(second.pid)
    finally:
        second.close()
