"""A token file another user can read, or one that does not parse, through the real CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite
SCRIPT = Path(sys.executable).with_name("alphapanda")


def _alphapanda(fake: FakeKite, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ALPHAPANDA_ZERODHA__API_ROOT": fake.api_root,
        "ALPHAPANDA_ZERODHA__LOGIN_URL": f"{fake.api_root}/connect/login",
        "ALPHAPANDA_ZERODHA__API_KEY": fake.state.api_key,
        "ALPHAPANDA_ZERODHA__API_SECRET": fake.state.api_secret,
        **extra,
    }
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=90)


def _logged_in(fake: FakeKite, home: Path, request_token: str) -> Path:
    fake.state.issue_request_token(request_token)
    assert _alphapanda(fake, "login", "--request-token", request_token).returncode == 0
    return home / "zerodha_token.json"


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_a_world_readable_token_is_refused_by_every_command_that_uses_it(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    token_file = _logged_in(fake_kite, isolated_home, "reqtokPerm1")
    access_token = json.loads(token_file.read_text())["access_token"]
    os.chmod(token_file, 0o644)
    for args in (("logout",), ("instruments", "sync")):
        line = _one_line(_alphapanda(fake_kite, *args))
        assert f"token file {token_file} is not owner-only (mode 0644)" in line
        assert access_token not in line
    assert access_token in fake_kite.state.access_tokens  # logout did not use it


def test_the_live_engine_refuses_a_world_readable_token(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    token_file = _logged_in(fake_kite, isolated_home, "reqtokPerm2")
    os.chmod(token_file, 0o640)
    result = _alphapanda(fake_kite, "engine", "--max-seconds", "20", ALPHAPANDA_MODE="live")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    refusals = [line for line in result.stderr.splitlines() if line.startswith("alphapanda:")]
    assert len(refusals) == 1 and "not owner-only (mode 0640)" in refusals[0]
    assert "engine running" not in result.stdout + result.stderr


def test_a_corrupt_token_says_so_and_a_new_login_replaces_it(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    token_file = _logged_in(fake_kite, isolated_home, "reqtokCorr1")
    token_file.write_text('{"user_id": "AB1234", "access_tok')
    line = _one_line(_alphapanda(fake_kite, "logout"))
    assert line.startswith(f"alphapanda: token file {token_file} is corrupt: not JSON")
    assert line.endswith("; log in again") and "access_tok" not in line

    fake_kite.state.issue_request_token("reqtokCorr2")
    login = _alphapanda(fake_kite, "login", "--request-token", "reqtokCorr2")
    assert login.returncode == 0, login.stderr
    assert "is corrupt" in login.stderr and "this login replaces it" in login.stderr
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["user_id"] == "AB1234"
