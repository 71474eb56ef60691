"""``alphapanda history fetch|list`` end to end through the console script and the loopback Kite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite
SCRIPT = Path(sys.executable).with_name("alphapanda")
REDIRECT = "http://127.0.0.1/cb?action=login&type=login&status=success&request_token={}"


def _alphapanda(fake: FakeKite, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ALPHAPANDA_ZERODHA__API_ROOT": fake.api_root,
        "ALPHAPANDA_ZERODHA__LOGIN_URL": f"{fake.api_root}/connect/login",
        "ALPHAPANDA_ZERODHA__API_KEY": fake.state.api_key,
        "ALPHAPANDA_ZERODHA__API_SECRET": fake.state.api_secret,
    }
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


def _login(fake: FakeKite) -> None:
    fake.state.issue_request_token("reqtokHist1")
    login = _alphapanda(fake, "login", "--request-token", REDIRECT.format("reqtokHist1"))
    assert login.returncode == 0, login.stderr


def test_fetch_needs_a_zerodha_login(fake_kite: FakeKite, isolated_home: Path) -> None:
    result = _alphapanda(
        fake_kite, "history", "fetch", "INFY", "--interval", "day", "--from", "2024-01-01"
    )
    assert result.returncode == 2
    assert "history needs a Zerodha session: not logged in to Zerodha" in result.stderr
    assert "Traceback" not in result.stderr and not fake_kite.historical.arrivals


def test_fetch_two_symbols_then_list_then_resume_after_a_drop(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    _login(fake_kite)
    args = ("history", "fetch", "INFY", "NSE:TCS", "--interval", "minute")
    span = ("--from", "2024-01-01", "--to", "2024-03-05")  # 65 days: two chunks each
    fake_kite.historical.drop_requests = {3}  # TCS's first chunk: the connection drops

    stopped = _alphapanda(fake_kite, *args, *span)

    assert stopped.returncode == 1, stopped.stderr
    assert "history fetch stopped: NSE:TCS minute 2024-01-01..2024-02-29" in stopped.stderr
    assert "run the same command again" in stopped.stderr
    fake_kite.historical.log.clear()

    resumed = _alphapanda(fake_kite, *args, *span)

    assert resumed.returncode == 0, resumed.stderr
    assert "NSE:INFY minute: 0 chunks fetched, 2 already stored" in resumed.stdout
    assert "NSE:TCS minute: 2 chunks fetched, 0 already stored" in resumed.stdout
    assert [int(entry[1]) for entry in fake_kite.historical.log] == [2953217, 2953217]
    listed = _alphapanda(fake_kite, "history", "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["symbol"], r["interval"], r["first"], r["last"]) for r in rows] == [
        ("NSE:INFY", "minute", "2024-01-01", "2024-03-05"),
        ("NSE:TCS", "minute", "2024-01-01", "2024-03-05"),
    ]
    assert rows[0]["candles"] == rows[1]["candles"] == 47 * 375  # 47 weekdays of 375 minutes
    assert (isolated_home / "candles" / "minute" / "NSE" / "INFY.parquet").is_file()


def test_a_date_in_the_future_is_refused(fake_kite: FakeKite, isolated_home: Path) -> None:
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    result = _alphapanda(
        fake_kite,
        "history",
        "fetch",
        "INFY",
        "--interval",
        "day",
        "--from",
        "2024-01-01",
        "--to",
        tomorrow,
    )
    assert result.returncode == 2 and "is in the future" in result.stderr
