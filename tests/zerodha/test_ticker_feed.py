"""The live feed with the real KiteTicker against the loopback server, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.zerodha.ticker_feed import chunk_tokens
from tests.kite_fake.packets import FakeQuote
from tests.kite_fake.server import FakeKite

pytestmark = [pytest.mark.kite, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


class Child:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.status: dict = {}

    def wait_for(
        self,
        predicate: Callable[[dict], bool],
        timeout: float = 15.0,
        poke: Callable[[], None] | None = None,
    ) -> dict:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"feed process exited: {self.proc.poll()}")
            self.status = json.loads(line)
            if predicate(self.status):
                return self.status
            if poke is not None:
                poke()
        raise AssertionError(f"condition not met; last status {self.status}")


@contextmanager
def feed_process(fake: FakeKite, token: str, stale_s: float, tokens: list[int]) -> Iterator[Child]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.zerodha.ticker_child",
            fake.state.api_key,
            token,
            fake.ticker_root,
            str(stale_s),
            *map(str, tokens),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TZ": "Asia/Kolkata"},
    )
    try:
        yield Child(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_instruments_are_spread_over_at_most_three_connections() -> None:
    groups = chunk_tokens(range(7000))
    assert [len(g) for g in groups] == [3000, 3000, 1000]
    with pytest.raises(ValueError, match="9000"):
        chunk_tokens(range(9001))


def test_ticks_flow_then_reconnect_resubscribes_and_watchdog_revives_silence(
    fake_kite: FakeKite,
) -> None:
    fake_kite.state.access_tokens.add("livetoken1")
    with feed_process(fake_kite, "livetoken1", 1.5, [408065, 738561]) as child:
        child.wait_for(lambda s: s["connected"])
        child.wait_for(
            lambda s: s["ticks"] >= 2,
            poke=lambda: fake_kite.push_ticks(
                [FakeQuote(408065, 1500.5), FakeQuote(738561, 2900.0)]
            ),
        )
        # The server drops the socket: the client reconnects and subscribes again.
        subscribes_before = sum(1 for m in fake_kite.ws_messages if m.get("a") == "subscribe")
        fake_kite.drop_connections()
        child.wait_for(lambda s: s["connects"] >= 2 and s["connected"])
        assert (
            sum(1 for m in fake_kite.ws_messages if m.get("a") == "subscribe") > subscribes_before
        )
        child.wait_for(
            lambda s: s["last"] == 1511.0,
            poke=lambda: fake_kite.push_ticks([FakeQuote(408065, 1511.0)]),
        )
        # Connected but silent: the watchdog forces a reconnect by itself.
        fake_kite.silent = True
        status = child.wait_for(lambda s: s["watchdog"] >= 1, timeout=20)
        assert status["rejected"] == []


def test_dead_token_stops_retrying_instead_of_a_reconnect_storm(fake_kite: FakeKite) -> None:
    fake_kite.state.access_tokens.add("livetoken2")
    with feed_process(fake_kite, "livetoken2", 30, [408065]) as child:
        child.wait_for(lambda s: s["connected"])
        fake_kite.state.invalidate_all_tokens()  # logged in elsewhere
        fake_kite.drop_connections()
        status = child.wait_for(lambda s: bool(s["rejected"]), timeout=15)
        assert "403" in status["rejected"][0]
        assert status["health"] == "down"
        time.sleep(3)  # a retrying client would dial again within ~1-3 s
        assert fake_kite.ws_rejected == 1
