"""Margin before sending (issue 14.6): the real ``kiteconnect`` client asks the loopback
Kite's order margins and margins endpoints; an order the account cannot pay for is
refused unsent, with both figures, and raises an alert."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from alphapanda_tui.settings import load_settings
from alphapanda_tui.venues.zerodha import margin_config
from engine.events import EventType, new_event
from engine.events.payloads import RiskAlert, Signal
from engine.events.types import OrderStatus, OrderType, Product, Side
from engine.execution.service import FUNDS_RULE
from engine.zerodha.margins import KiteMarginCheck, MarginConfig
from tests.kite_fake.server import FakeKite
from tests.zerodha.fill_harness import INFY, KEY, LiveExecution, live_execution


@pytest.fixture
def fake() -> FakeKite:
    with FakeKite() as server:
        yield server


async def _execution(fake: FakeKite, tmp_path: Path, **config: object) -> LiveExecution:
    live = await live_execution(fake, tmp_path)
    live.service.funds_check = KiteMarginCheck(
        live.venue.session.client, config=MarginConfig(**config)
    )
    return live


async def _buy(live: LiveExecution, seed: str, quantity: int) -> OrderStatus:
    signal = Signal(
        signal_id=seed,
        strategy="ema",
        instrument_token=INFY,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=quantity,
        order_type=OrderType.LIMIT,
        product=Product.MIS,
        limit_price=Decimal("1500.00"),
        signal_ts=1,
    )
    await live.handle(new_event(EventType.SIGNAL_VALIDATED, signal, source="test", key=KEY))
    [order] = [o for o in live.venue.store.orders.values() if o.signal_id == seed]
    return order.status


def _requests(fake: FakeKite, method: str, prefix: str) -> int:
    return sum(1 for m, p, _ in fake.state.requests if m == method and p.startswith(prefix))


def _margin_alerts(live: LiveExecution) -> list[str]:
    alerts = [e.data for e in live.emitted if isinstance(e.data, RiskAlert)]
    return [a.message for a in alerts if a.rule == FUNDS_RULE]


async def test_a_margin_shortfall_is_refused_unsent_with_both_figures(
    fake: FakeKite, tmp_path: Path
) -> None:
    fake.state.margin_available = 98112.5
    live = await _execution(fake, tmp_path)

    status = await _buy(live, "sig-big", 600)  # 600 x 1,500 MIS at 20%: 1,80,000 needed

    assert status is OrderStatus.REJECTED
    [order] = live.venue.store.orders.values()
    assert order.reason == "margin: needs ₹1,80,000.00, available ₹98,112.50"
    assert _requests(fake, "POST", "/orders/") == 0  # never left
    assert _requests(fake, "POST", "/margins/orders") == 1
    assert _margin_alerts(live) == [order.reason]
    assert [u.status for u in live.events(EventType.ORDER_REJECTED)] == [OrderStatus.REJECTED]


async def test_a_covered_order_goes_out(fake: FakeKite, tmp_path: Path) -> None:
    live = await _execution(fake, tmp_path)  # the mock account: ₹99,725.05 available

    status = await _buy(live, "sig-small", 10)  # needs ₹3,000.00

    assert status is OrderStatus.SUBMITTED or status.is_working
    assert _requests(fake, "POST", "/orders/") == 1
    assert _margin_alerts(live) == []


async def test_orders_in_quick_succession_cannot_spend_the_same_rupees(
    fake: FakeKite, tmp_path: Path
) -> None:
    fake.state.margin_available = 10000.0
    live = await _execution(fake, tmp_path, cache_s=60.0)

    first = await _buy(live, "sig-1", 20)  # needs ₹6,000.00
    second = await _buy(live, "sig-2", 20)  # ₹4,000.00 left of the one read

    assert first.is_working or first is OrderStatus.SUBMITTED
    assert second is OrderStatus.REJECTED
    assert _margin_alerts(live) == ["margin: needs ₹6,000.00, available ₹4,000.00"]
    assert _requests(fake, "GET", "/user/margins") == 1  # the available figure was cached
    assert _requests(fake, "POST", "/orders/") == 1


async def test_a_failed_margin_request_refuses_the_order_by_default(
    fake: FakeKite, tmp_path: Path
) -> None:
    fake.state.margin_script = ["error"]
    live = await _execution(fake, tmp_path)

    status = await _buy(live, "sig-x", 10)

    assert status is OrderStatus.REJECTED
    [order] = live.venue.store.orders.values()
    assert order.reason is not None
    assert order.reason.startswith("margin: could not check with Zerodha (GeneralException")
    assert _requests(fake, "POST", "/orders/") == 0


async def test_on_error_allow_sends_when_the_margin_is_unknown(
    fake: FakeKite, tmp_path: Path
) -> None:
    fake.state.margin_script = ["error"]
    live = await _execution(fake, tmp_path, on_error="allow")

    status = await _buy(live, "sig-y", 10)

    assert status is not OrderStatus.REJECTED
    assert _requests(fake, "POST", "/orders/") == 1


async def test_margin_requests_stay_within_their_rate_limit(fake: FakeKite, tmp_path: Path) -> None:
    live = await _execution(fake, tmp_path, cache_s=0.0, requests_per_second=2)
    check = live.service.funds_check
    assert isinstance(check, KiteMarginCheck)

    await _buy(live, "sig-a", 1)  # order margins + margins: the 2 requests of this second
    await _buy(live, "sig-b", 1)  # must wait for the next second

    assert check.requests == 4
    assert check.limiter.waited_s > 0.5


async def test_margin_check_off_lets_a_shortfall_go_to_zerodha(
    fake: FakeKite, tmp_path: Path
) -> None:
    fake.state.margin_available = 100.0
    live = await _execution(fake, tmp_path, enabled=False)

    await _buy(live, "sig-off", 600)

    assert _requests(fake, "POST", "/margins/orders") == 0
    assert _requests(fake, "POST", "/orders/") == 1  # Kite's RMS is the only judge now


def test_margin_settings_reach_the_live_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__MARGIN_CHECK", "false")
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__MARGIN_CACHE_S", "0.5")
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__MARGIN_ON_ERROR", "allow")
    monkeypatch.setenv("ALPHAPANDA_ZERODHA__MARGIN_REQUESTS_PER_SECOND", "3")

    assert margin_config(load_settings()) == MarginConfig(
        enabled=False, cache_s=0.5, on_error="allow", requests_per_second=3
    )
