"""A live runtime with the real KiteTicker against the loopback Kite, in its own process.

Usage: python -m tests.zerodha.live_runtime_child
Runs the whole story once (Twisted's reactor cannot restart, so never in the pytest
process) and prints one JSON line of what a trader would have seen at each step.
TZ is set to New York on purpose: ticker times are naive local time of the process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.clock import NS_PER_S, ManualClock
from engine.ids import client_order_id
from tests.kite_fake.packets import FakeQuote
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    INFY,
    MARKET_NS,
    live_runtime,
    live_settings,
    log_in,
    send_signal,
    start,
    store_of,
)

MARKET_S = MARKET_NS // NS_PER_S


async def until(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def quote() -> FakeQuote:
    return FakeQuote(
        INFY,
        1500.0,
        close=1490.0,
        exchange_timestamp=MARKET_S,
        last_trade_time=MARKET_S - 1,
        depth_buy=[(10, 1499.95, 1)],
        depth_sell=[(12, 1500.05, 2)],
    )


async def story(fake: FakeKite, home: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    clock = ManualClock(MARKET_NS)
    settings = live_settings(home, fake)
    await log_in(settings, fake, clock, "reqtokChild1")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "instruments_synced.json").write_text('{"synced_on": "2025-01-15"}')
    runtime = live_runtime(settings, clock, ticker=True)
    await start(runtime)
    live, model, store = runtime.venue, runtime.read_model, store_of(runtime)
    assert live is not None
    try:
        await until(lambda: fake.subscriptions.get(INFY) == "full", "the subscription")
        out["started"] = runtime.global_mode.value
        while model.ticks_seen == 0:
            fake.push_ticks([quote()])
            await asyncio.sleep(0.1)
        out["tick_ts_exact"] = model.last_tick_ns == MARKET_S * NS_PER_S
        out["prechecks"] = {c.name: [c.ok, c.reason] for c in await live.prechecks()}
        await until(lambda: not live.busy, "the start reconciliation")
        await runtime.controls.resume(operator="trader")
        await until(lambda: runtime.global_mode.value == "ACTIVE", "ACTIVE")

        # the order path over the socket: signal → Zerodha → text frame → fill → position
        await send_signal(runtime, "sig-child-1")
        cid = client_order_id("sig-child-1")
        await until(lambda: (store.orders.get(cid) or None) is not None, "the outbox")
        await until(lambda: store.orders[cid].broker_order_id, "the broker ack")
        fake.fill_order(store.orders[cid].broker_order_id or "", price=1500.05)
        await until(lambda: store.fills, "the fill")
        [fill] = store.fills.values()
        out["fill"] = [fill.trade_id, fill.quantity, str(fill.price)]
        out["order"] = store.orders[cid].status.value
        await until(lambda: any(p.net_quantity for p in model.positions.values()), "a position")
        out["position"] = [p.net_quantity for p in model.positions.values()]

        # the token dies (another login): halt, alert, no reconnect storm
        rejected, connects = fake.ws_rejected, fake.ws_connects
        fake.state.invalidate_all_tokens()
        fake.drop_connections()
        await until(lambda: model.session.user is None, "the session to end")
        await until(lambda: runtime.global_mode.value == "HALTED", "HALTED")
        await asyncio.sleep(4.0)  # a retrying ticker would knock again at ~1 s, ~3.7 s
        out["halted_reason"] = model.trading_reasons.get("global", "")
        out["ws_rejected"] = fake.ws_rejected - rejected
        out["alerts"] = [a.message for a in model.alerts if a.rule == "zerodha_token"]

        # a new login: the feed subscribes again; trading stays halted
        sent = len(fake.ws_messages)
        fake.state.issue_request_token("reqtokChild2")
        await live.login("reqtokChild2")
        await until(lambda: fake.ws_connects > connects, "a new ticker connection")
        await until(
            lambda: any(m.get("a") == "subscribe" for m in fake.ws_messages[sent:]),
            "the resubscription",
        )
        out["resubscribed"] = [m for m in fake.ws_messages[sent:] if m.get("a") == "subscribe"]
        out["after_login"] = runtime.global_mode.value
    finally:
        await runtime.stop()
    return out


async def main() -> None:
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with tempfile.TemporaryDirectory() as home, FakeKite() as fake:
        result = await story(fake, Path(home))
    print(json.dumps(result), flush=True)
    sys.stdout.flush()
    os._exit(0)  # the reactor thread is a daemon; do not wait for Twisted to wind down


if __name__ == "__main__":
    asyncio.run(main())
