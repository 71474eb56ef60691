"""A fill pushed as a text frame over the real KiteTicker becomes an OrderUpdate with its fill."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kiteconnect import KiteConnect

from tests.kite_fake.server import FakeKite

pytestmark = [pytest.mark.kite, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _read_json(proc: subprocess.Popen[str], timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(
                f"child exited: {proc.poll()} {proc.stderr.read() if proc.stderr else ''}"
            )
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("no output from the child")


def test_order_completed_by_a_socket_update_yields_one_fill(fake_kite: FakeKite) -> None:
    kite = KiteConnect(api_key=fake_kite.state.api_key, root=fake_kite.api_root)
    fake_kite.state.issue_request_token("reqtokWs1")
    token = kite.generate_session("reqtokWs1", api_secret=fake_kite.state.api_secret)[
        "access_token"
    ]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.zerodha.order_update_child",
            fake_kite.state.api_key,
            token,
            fake_kite.api_root,
            fake_kite.ticker_root,
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        order_id = _read_json(proc)["placed"]
        assert fake_kite.state.orders[order_id]["market_protection"] == -1
        fake_kite.fill_order(order_id, price=1501.25)  # pushes {"type":"order",...}
        update = _read_json(proc)
        assert update["status"] == "FILLED" and update["filled_quantity"] == 10
        assert update["fill"]["trade_id"] == fake_kite.trade_ids(order_id)[0]
        assert update["fill"]["price"] == "1501.25"
        assert update["broker_order_id"] == order_id
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
