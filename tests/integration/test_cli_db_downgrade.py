"""``alphapanda db downgrade`` through the installed script: it never drops the journal unasked.

A downgrade that drops tables (to ``base``: orders, fills, audit …) asks on a terminal,
refuses without one unless ``--yes`` is given, and leaves every row where it was.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from tests.integration.support import ALPHAPANDA, SqliteDb, cli, engine_env


def _journal_with_one_audit_row(home: Path, revision: str = "head") -> SqliteDb:
    assert cli(home, "db", "upgrade", revision).returncode == 0
    connection = sqlite3.connect(home / "alphapanda.db")
    with connection:
        connection.execute(
            "INSERT INTO audit_log (audit_ts, actor, action, detail)"
            " VALUES (1, 'ops@desk', 'request.kill', '{}')"
        )
    connection.close()
    db = SqliteDb(home / "alphapanda.db")
    assert db.count("audit_log") == 1
    return db


def _on_a_terminal(home: Path, answer: str) -> subprocess.CompletedProcess[str]:
    """``db downgrade base`` with a pseudo-terminal as stdin, typing ``answer``."""
    controller, terminal = os.openpty()
    os.write(controller, answer.encode() + b"\n")
    try:
        return subprocess.run(
            [str(ALPHAPANDA), "db", "downgrade", "base"],
            env=engine_env(home),
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=home,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)


def test_without_a_terminal_or_yes_it_refuses_in_one_line_and_drops_nothing(
    isolated_home: Path,
) -> None:
    db = _journal_with_one_audit_row(isolated_home)

    result = cli(isolated_home, "db", "downgrade", "base")

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "drops" in line and "orders" in line and "fills" in line and "audit_log" in line
    assert "--yes" in line
    assert "Traceback" not in result.stderr
    assert db.count("audit_log") == 1
    assert cli(isolated_home, "db", "current").stdout.strip().endswith("(head)")


def test_with_yes_it_proceeds(isolated_home: Path) -> None:
    _journal_with_one_audit_row(isolated_home)

    result = cli(isolated_home, "db", "downgrade", "base", "--yes")

    assert result.returncode == 0, result.stderr
    assert "done (now at base)" in result.stdout
    assert "empty (no schema)" in cli(isolated_home, "db", "current").stdout


def test_on_a_terminal_it_asks_and_only_yes_drops(isolated_home: Path) -> None:
    db = _journal_with_one_audit_row(isolated_home)

    declined = _on_a_terminal(isolated_home, "no")

    assert declined.returncode == 2
    assert "Type 'yes' to drop them" in declined.stderr
    assert "cancelled: nothing was dropped" in declined.stderr
    assert db.count("audit_log") == 1

    confirmed = _on_a_terminal(isolated_home, "yes")

    assert confirmed.returncode == 0, confirmed.stderr
    assert "done (now at base)" in confirmed.stdout


def test_a_downgrade_that_drops_nothing_needs_no_confirmation(isolated_home: Path) -> None:
    _journal_with_one_audit_row(isolated_home, "0002")  # 0002 -> 0001 drops a column, no table

    result = cli(isolated_home, "db", "downgrade", "0001")

    assert result.returncode == 0, result.stderr
    assert "done (now at 0001)" in result.stdout


def test_a_downgrade_that_drops_one_newer_table_names_it(isolated_home: Path) -> None:
    _journal_with_one_audit_row(isolated_home)

    result = cli(isolated_home, "db", "downgrade", "0002")

    assert result.returncode == 2
    assert "position_protections" in result.stderr and "--yes" in result.stderr
    assert "audit_log" not in result.stderr
