"""In live mode the command line cannot bypass the console's pre-trading checks."""

from __future__ import annotations

from pathlib import Path

from tests.integration.support import cli


def test_live_resume_from_the_shell_is_refused_with_the_reason(tmp_path: Path) -> None:
    result = cli(
        tmp_path,
        "resume",
        ALPHAPANDA_MODE="live",
        ALPHAPANDA_ZERODHA__API_KEY="testkey",
        ALPHAPANDA_ZERODHA__API_SECRET="testsecret",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pre-trading checks" in lines[0]
    assert "Traceback" not in result.stderr
