"""Results on stdout, diagnostics on stderr: what a script piping ``alphapanda`` relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.support import cli


@pytest.mark.parametrize(
    ("args", "result"),
    [
        (("config", "show"), "ALPHAPANDA_MODE=paper"),
        (("db", "current"), "empty (no schema)"),
        (("db", "upgrade"), "done (now at"),
        (("strategies",), "NAME"),
        (("status",), "mode PAPER"),
    ],
)
def test_the_result_is_on_stdout_and_stderr_stays_empty(
    isolated_home: Path, args: tuple[str, ...], result: str
) -> None:
    run = cli(isolated_home, *args)

    assert run.returncode == 0, run.stderr
    assert result in run.stdout
    assert run.stderr == ""


def test_a_refusal_is_one_line_on_stderr_and_nothing_on_stdout(isolated_home: Path) -> None:
    run = cli(isolated_home, "logout")  # no Kite credentials configured

    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1
