"""``alphapanda login`` / ``logout`` / ``instruments sync`` end to end, as a subprocess."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite
SCRIPT = Path(sys.executable).with_name("alphapanda")
REDIRECT = "http://127.0.0.1/cb?action=login&type=login&status=success&request_token={}"


def _alphapanda(fake: FakeKite, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ALPHAPANDA_ZERODHA__API_ROOT": fake.api_root,
        "ALPHAPANDA_ZERODHA__LOGIN_URL": f"{fake.api_root}/connect/login",
        "ALPHAPANDA_ZERODHA__API_KEY": fake.state.api_key,
        "ALPHAPANDA_ZERODHA__API_SECRET": fake.state.api_secret,
        "ALPHAPANDA_LOG__LEVEL": "DEBUG",
    }
    return subprocess.run(
        [str(SCRIPT), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def _log_text(home: Path) -> str:
    files = [p for p in (home / "logs").rglob("*") if p.is_file()]
    assert files, "the command wrote no log files"
    return "".join(p.read_text(errors="replace") for p in files)


def test_login_then_logout_end_to_end_without_secrets_in_logs(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    fake_kite.state.issue_request_token("reqtokCli42")
    result = _alphapanda(fake_kite, "login", "--request-token", REDIRECT.format("reqtokCli42"))
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"Logged in as Asha Trader \(AB1234\); token valid until 06:00 IST \(in \d+h\d\dm\)\n",
        result.stdout,
    ), result.stdout
    token_file = isolated_home / "zerodha_token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    access_token = json.loads(token_file.read_text())["access_token"]
    assert access_token in fake_kite.state.access_tokens

    logout = _alphapanda(fake_kite, "logout")
    assert logout.returncode == 0, logout.stderr
    assert "Logged out AB1234" in logout.stdout
    assert not token_file.exists() and access_token not in fake_kite.state.access_tokens

    logs = _log_text(isolated_home)
    assert "zerodha login" in logs  # the logs are there, only the secrets are not
    for secret in (fake_kite.state.api_secret, access_token, "reqtokCli42"):
        assert secret not in logs + result.stdout + result.stderr


def test_login_reads_the_pasted_redirect_from_stdin(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    fake_kite.state.issue_request_token("reqtokPaste7")
    result = _alphapanda(fake_kite, "login", stdin=REDIRECT.format("reqtokPaste7") + "\n")
    assert result.returncode == 0, result.stderr
    assert f"{fake_kite.api_root}/connect/login?v=3&api_key=testkey" in result.stdout
    assert "Logged in as Asha Trader" in result.stdout


@pytest.mark.parametrize(
    ("pasted", "why"),
    [
        ("http://127.0.0.1/cb?status=cancelled&request_token=abc123", "log in again"),
        ("not a token!", "does not look like a request_token"),
        ("reqtokNeverIssued", "Zerodha refused the request token"),
    ],
)
def test_bad_paste_is_one_line_and_exit_2(fake_kite: FakeKite, pasted: str, why: str) -> None:
    result = _alphapanda(fake_kite, "login", "--request-token", pasted)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and why in result.stderr
    assert "Traceback" not in result.stderr


def test_instruments_sync_needs_a_login_first(fake_kite: FakeKite) -> None:
    result = _alphapanda(fake_kite, "instruments", "sync")
    assert result.returncode == 2
    assert "alphapanda login" in result.stderr and "Traceback" not in result.stderr


def test_instruments_sync_end_to_end(fake_kite: FakeKite, isolated_home: Path) -> None:
    fake_kite.state.issue_request_token("reqtokSync1")
    assert _alphapanda(fake_kite, "login", "--request-token", "reqtokSync1").returncode == 0
    assert _alphapanda(fake_kite, "db", "upgrade").returncode == 0
    result = _alphapanda(fake_kite, "instruments", "sync", "--exchange", "NSE")
    assert result.returncode == 0, result.stderr
    assert "synced 4 instruments (NSE 4)" in result.stdout
    marker = json.loads((isolated_home / "data" / "instruments_synced.json").read_text())
    assert marker["rows"] == {"NSE": 4}
    bad = _alphapanda(fake_kite, "instruments", "sync", "--exchange", "NYSE")
    assert bad.returncode == 2 and "unknown exchange NYSE" in bad.stderr
