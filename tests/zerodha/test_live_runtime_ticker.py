"""The live runtime with the real KiteTicker, end to end, in a subprocess (one reactor each).

Signal → ZerodhaAdapter → fake broker → text order update COMPLETE over the socket →
fill journalled → position; then the token dies: HALTED, an alert, no reconnect storm;
a new login resubscribes the feed while trading stays halted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kite, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_live_runtime_over_the_ticker_trades_halts_and_resubscribes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPANDA_")}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.zerodha.live_runtime_child"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    seen = json.loads(lines[-1])

    assert seen["started"] == "HALTED"  # the first live order waits for the operator
    assert seen["tick_ts_exact"]  # naive local ticker times read correctly (TZ New York)
    assert all(ok for ok, _reason in seen["prechecks"].values()), seen["prechecks"]

    trade_id, quantity, price = seen["fill"]
    assert trade_id.isdigit() and quantity == 10 and price == "1500.05"
    assert seen["order"] == "FILLED" and seen["position"] == [10]

    assert "zerodha_token" in seen["halted_reason"]
    assert seen["alerts"] and "HALTED" in seen["alerts"][0]
    assert seen["ws_rejected"] == 1  # one 403, then the ticker stopped knocking

    assert any(408065 in m["v"] for m in seen["resubscribed"])
    assert seen["after_login"] == "HALTED"
