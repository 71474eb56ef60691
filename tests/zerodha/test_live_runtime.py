"""The live runtime over REST with the real ``KiteConnect`` client and the loopback Kite.

The ticker (Twisted) is not started here: order updates are handed to the same callback
the ticker calls, with the JSON a text frame carries. ``test_live_runtime_ticker`` runs
the socket end to end in a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.events.types import OrderStatus, Severity, TradingMode
from engine.logs import setup_logging
from engine.prechecks import NotReadyForLive
from engine.zerodha.ticker_service import NOT_LOGGED_IN
from engine.zerodha.venue import START_HALTED, ZerodhaVenue
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    INFY,
    MARKET_NS,
    as_text_frame,
    live_runtime,
    live_settings,
    log_in,
    send_signal,
    start,
    store_of,
)

pytestmark = pytest.mark.kite


def _state(runtime) -> TradingMode:  # type: ignore[no-untyped-def]
    return runtime.global_mode


def _reason(runtime) -> str:  # type: ignore[no-untyped-def]
    return runtime.read_model.trading_reasons.get("global", "")


async def test_not_logged_in_starts_halted_with_the_reason_and_an_alert(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    runtime = live_runtime(live_settings(isolated_home, fake_kite), ManualClock(MARKET_NS))
    await start(runtime)
    try:
        assert _state(runtime) is TradingMode.HALTED
        await eventually(lambda: NOT_LOGGED_IN in _reason(runtime), message="no halt reason")
        await eventually(lambda: runtime.read_model.alerts, message="no alert")
        alert = runtime.read_model.alerts[-1]
        assert alert.severity is Severity.CRITICAL and NOT_LOGGED_IN in alert.message
        assert runtime.read_model.session.user is None
        with pytest.raises(NotReadyForLive, match="token: not logged in"):
            await runtime.controls.resume(operator="trader")
        assert _state(runtime) is TradingMode.HALTED
    finally:
        await runtime.stop()


async def test_a_signal_becomes_a_zerodha_order_whose_fill_is_journalled_and_held(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(isolated_home, fake_kite)
    await log_in(settings, fake_kite, clock, "reqtokRun1")
    runtime = live_runtime(settings, clock)
    await start(runtime)
    try:
        assert runtime.read_model.session.user == "Asha Trader"
        # the first live order waits for the operator: the engine starts halted
        assert _state(runtime) is TradingMode.HALTED and START_HALTED in _reason(runtime)
        assert runtime.pipeline is not None and isinstance(runtime.venue, ZerodhaVenue)
        await eventually(lambda: not runtime.venue.busy, message="start reconciliation hangs")
        await runtime.pipeline.control.resume(operator="trader")  # what the confirmed modal does
        await eventually(lambda: _state(runtime) is TradingMode.ACTIVE)

        await send_signal(runtime, "sig-live-1")
        await eventually(lambda: fake_kite.state.orders, message="no order at Zerodha")
        [(order_id, placed)] = fake_kite.state.orders.items()
        store = store_of(runtime)
        [local] = store.orders.values()
        assert placed["tag"] == local.client_order_id and placed["quantity"] == 10
        cid = local.client_order_id
        await eventually(
            lambda: store.orders[cid].broker_order_id == order_id, message="ack not stored"
        )

        pushed = fake_kite.fill_order(order_id, price=1500.05)
        runtime.venue.order_updates.on_ticker_update(as_text_frame(pushed))  # the ticker's call

        await eventually(lambda: store.fills, message="fill not journalled")
        [fill] = store.fills.values()
        assert fill.trade_id == fake_kite.trade_ids(order_id)[0] and fill.quantity == 10
        assert str(fill.price) == "1500.05"
        assert store.orders[cid].status is OrderStatus.FILLED

        def held() -> bool:
            return any(p.net_quantity == 10 for p in runtime.read_model.positions.values())

        await eventually(held, message="no position in the portfolio")
        [position] = [p for p in store.positions.values() if p.instrument_token == INFY]
        assert position.net_quantity == 10
        assert not [a for a in runtime.read_model.alerts if a.rule == "reconciliation"]
    finally:
        await runtime.stop()


@pytest.mark.parametrize(
    ("on_expiry", "expected"),
    [("halt", TradingMode.HALTED), ("reduce", TradingMode.REDUCING)],
)
async def test_token_invalidated_mid_session_stops_trading_and_asks_for_login(
    fake_kite: FakeKite, isolated_home: Path, on_expiry: str, expected: TradingMode
) -> None:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(isolated_home, fake_kite, zerodha={"on_token_expiry": on_expiry})
    await log_in(settings, fake_kite, clock, "reqtokRun2")
    runtime = live_runtime(settings, clock)
    await start(runtime)
    try:
        assert runtime.pipeline is not None and isinstance(runtime.venue, ZerodhaVenue)
        await runtime.pipeline.control.resume(operator="trader")
        await eventually(lambda: _state(runtime) is TradingMode.ACTIVE)

        fake_kite.state.invalidate_all_tokens()  # logged in on another device
        await send_signal(runtime, "sig-dead-token")

        await eventually(lambda: _state(runtime) is expected, message=f"not {expected}")
        await eventually(lambda: runtime.read_model.session.user is None, message="session kept")
        assert not settings.token_file.exists()
        await eventually(
            lambda: any(a.rule == "zerodha_token" for a in runtime.read_model.alerts),
            message="no alert",
        )
        store = store_of(runtime)
        [cid] = store.orders
        await eventually(lambda: store.orders[cid].status is OrderStatus.REJECTED)
        assert "log in again" in store.orders[cid].reason
        posts = [r for r in fake_kite.state.requests if r[0] == "POST" and r[1] != "/session/token"]
        assert len(posts) == 1  # the dead token is not tried again

        # a new login brings the session back, and trading stays where it was
        fake_kite.state.issue_request_token("reqtokRun3")
        redirect = "https://127.0.0.1/cb?action=login&status=success&request_token=reqtokRun3"
        info = await runtime.venue.login(redirect)
        assert info.user_name == "Asha Trader"
        assert runtime.read_model.session.user == "Asha Trader"
        assert _state(runtime) is expected
    finally:
        await runtime.stop()


async def test_secrets_never_reach_the_log_files(fake_kite: FakeKite, isolated_home: Path) -> None:
    logs = setup_logging(isolated_home, level="DEBUG")
    clock = ManualClock(MARKET_NS)
    settings = live_settings(isolated_home, fake_kite)
    runtime = live_runtime(settings, clock)
    try:
        await start(runtime)
        assert isinstance(runtime.venue, ZerodhaVenue)
        fake_kite.state.issue_request_token("reqtokSecret9")
        info = await runtime.venue.login("reqtokSecret9")
        fake_kite.state.invalidate_all_tokens()
        await runtime.venue.reconcile("test")  # a 403 from Zerodha, logged as it happens
        await eventually(lambda: runtime.read_model.session.user is None)
    finally:
        await runtime.stop()
        logs.flush()
        logs.close()
    text = "\n".join(p.read_text() for p in (isolated_home / "logs").iterdir() if p.is_file())
    assert "zerodha session ended" in text  # the logs were written
    for secret in (info.access_token, "reqtokSecret9", fake_kite.state.api_secret):
        assert secret not in text
