"""The fake speaks Kite closely enough for the real, unmodified ``kiteconnect`` client."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kex

from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite


def _logged_in(fake: FakeKite) -> KiteConnect:
    kite = KiteConnect(api_key=fake.state.api_key, root=fake.api_root)
    fake.state.issue_request_token("reqtok1")
    kite.generate_session("reqtok1", api_secret=fake.state.api_secret)
    return kite


def test_login_place_and_errors_with_the_real_client(fake_kite: FakeKite) -> None:
    kite = _logged_in(fake_kite)
    assert kite.profile()["user_id"] == "AB1234"
    order_id = kite.place_order(
        variety="regular",
        exchange="NSE",
        tradingsymbol="INFY",
        transaction_type="BUY",
        quantity=1,
        product="MIS",
        order_type="MARKET",
        market_protection=-1,
        tag="AP123",
    )
    assert kite.order_history(order_id)[0]["tag"] == "AP123"
    with pytest.raises(kex.InputException, match="market_protection"):
        kite.place_order(
            variety="regular",
            exchange="NSE",
            tradingsymbol="INFY",
            transaction_type="BUY",
            quantity=1,
            product="MIS",
            order_type="MARKET",
        )
    fake_kite.state.place_script.append("429")
    with pytest.raises(kex.NetworkException) as err:
        kite.place_order(
            variety="regular",
            exchange="NSE",
            tradingsymbol="INFY",
            transaction_type="BUY",
            quantity=1,
            product="MIS",
            order_type="LIMIT",
            price=1500,
        )
    assert err.value.code == 429
    rows = kite.instruments("NSE")
    assert {r["tradingsymbol"] for r in rows} >= {"INFY", "RELIANCE"}


def test_reused_request_token_and_bad_checksum_are_token_errors(fake_kite: FakeKite) -> None:
    kite = _logged_in(fake_kite)
    with pytest.raises(kex.TokenException):
        kite.generate_session("reqtok1", api_secret=fake_kite.state.api_secret)  # one use
    fake_kite.state.issue_request_token("reqtok2")
    with pytest.raises(kex.TokenException, match="checksum"):
        kite.generate_session("reqtok2", api_secret="wrong")
    expected = hashlib.sha256(b"testkeyreqtok2testsecret").hexdigest()
    assert len(expected) == 64


def test_invalidated_token_calls_the_expiry_hook(fake_kite: FakeKite) -> None:
    kite = _logged_in(fake_kite)
    called = []
    kite.set_session_expiry_hook(lambda: called.append(True))
    fake_kite.state.invalidate_all_tokens()
    with pytest.raises(kex.TokenException):
        kite.orders()
    assert called == [True]


TICKER_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    from kiteconnect import KiteTicker
    api_key, token, root = sys.argv[1:4]
    got, done = [], threading.Event()
    kws = KiteTicker(api_key, token, root=root)
    def on_connect(ws, response):
        ws.subscribe([408065, 256265]); ws.set_mode(ws.MODE_FULL, [408065])
        print("CONNECTED", flush=True)
    def on_ticks(ws, ticks):
        for t in ticks:
            got.append({"token": t["instrument_token"], "mode": t["mode"],
                        "price": t["last_price"], "depth": len(t.get("depth", {}).get("buy", []))})
        if len(got) >= 2:
            done.set()
    kws.on_connect = on_connect
    kws.on_ticks = on_ticks
    kws.connect(threaded=True)
    ok = done.wait(15)
    print("TICKS", json.dumps(got), flush=True)
    sys.exit(0 if ok else 1)
    """
)


def test_ticker_binary_packets_parse_in_the_real_client(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    from tests.kite_fake.packets import FakeQuote

    fake_kite.state.access_tokens.add("acctok")
    script = tmp_path / "ticker.py"
    script.write_text(TICKER_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), "testkey", "acctok", fake_kite.ticker_root],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TZ": "Asia/Kolkata"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "CONNECTED" in line
    import time

    deadline = time.monotonic() + 10
    while fake_kite.subscriptions.get(408065) != "full" and time.monotonic() < deadline:
        time.sleep(0.02)
    fake_kite.push_ticks(
        [
            FakeQuote(408065, 1510.25, close=1500.0, depth_buy=[(10, 1510.2, 1)]),
            FakeQuote(256265, 21500.5, close=21400.0),
        ]
    )
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    ticks = {t["token"]: t for t in __import__("json").loads(out.split("TICKS", 1)[1])}
    assert ticks[408065] == {"token": 408065, "mode": "full", "price": 1510.25, "depth": 5}
    assert ticks[256265]["mode"] == "quote" and ticks[256265]["price"] == 21500.5
