"""Orders by hand in live mode (issue 16): requests as ``alphapanda order``, ``modify`` and
``cancel`` leave them reach the running live engine's control-request poller, which sends
them through the real ``kiteconnect`` client to the loopback Kite. What Kite receives is
what the operator asked, the stored order follows, and Kite's 25-modification cap is
enforced before anything is sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui.runtime import EngineRuntime
from engine.clock import ManualClock
from engine.domain.records import AuditRecord
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import Tick
from engine.events.types import EventType, OrderStatus
from engine.ids import uuid7_str
from engine.memory_store import MemoryTradingStore
from engine.trading_state.manual import MAX_MODIFICATIONS
from engine.trading_state.requests import ACK_PREFIX, request_record
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    INFY,
    MARKET_NS,
    live_runtime,
    live_settings,
    log_in,
    start,
)

pytestmark = pytest.mark.kite

LIMIT_TICKET = {
    "side": "BUY",
    "symbol": "NSE:INFY",
    "quantity": 2,
    "order_type": "LIMIT",
    "product": "MIS",
    "price": "1400",
}


class Operator:
    """Writes request rows as the CLI does and waits for the engine's acknowledgement."""

    def __init__(self, store: MemoryTradingStore, clock: ManualClock) -> None:
        self.store = store
        self.clock = clock

    async def ask(self, action: str, **detail: object) -> dict[str, Any]:
        request_id = uuid7_str()
        # each request newer than the last, and slower than Kite's 10 orders a second (the
        # order rate limiter runs on this clock, which moves only here)
        self.clock.advance(0.15)
        await self.store.add_audit(
            request_record(
                action,
                "asha",
                self.clock.now_ns(),
                request_id=request_id,
                broker="zerodha",
                **detail,
            )
        )
        found: list[AuditRecord] = []

        def acknowledged() -> bool:
            found[:] = [
                r
                for r in self.store.audit
                if r.action == ACK_PREFIX + action and r.detail.get("request_id") == request_id
            ]
            return bool(found)

        await eventually(acknowledged, timeout=10, message=f"no ack for {action}")
        return dict(found[0].detail)


async def running(
    fake_kite: FakeKite, home: Path, token: str
) -> tuple[EngineRuntime, MemoryTradingStore, Operator]:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(home, fake_kite)
    await log_in(settings, fake_kite, clock, token)
    store = MemoryTradingStore()
    runtime = live_runtime(settings, clock, store=store)
    await start(runtime)
    assert runtime.pipeline is not None
    # a live engine starts halted until the operator confirms the pre-trading checks
    await eventually(lambda: not getattr(runtime.venue, "busy", False), message="reconciling")
    await runtime.pipeline.control.resume(operator="asha")
    # risk checks a manual price against the band around the last price: one tick
    tick = Tick(
        instrument_token=INFY, symbol="NSE:INFY", last_price=Decimal("1400"), exchange_ts=MARKET_NS
    )
    assert runtime._ports is not None
    await runtime._ports.bus.publish(
        topics.MARKET_TICKS, new_event(EventType.MARKET_TICK, tick, source="test", key=str(INFY))
    )
    assert await runtime.pipeline.drain(10.0), "the tick did not settle"
    return runtime, store, Operator(store, clock)


def kite_calls(fake: FakeKite, method: str, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (p, dict(params))
        for m, p, params in fake.state.requests
        if m == method and p.startswith(prefix)
    ]


async def test_manual_limit_modify_cancel_reach_kite_and_the_stored_order_follows(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    runtime, store, operator = await running(fake_kite, isolated_home, "reqtokManual1")
    try:
        ack = await operator.ask("order", ticket=LIMIT_TICKET)
        assert ack["sent"], ack
        coid = str(ack["client_order_id"])

        def placed() -> bool:
            order = store.orders.get(coid)
            return order is not None and order.broker_order_id is not None

        await eventually(placed, timeout=10, message="the order never reached Kite")
        [(_, sent)] = kite_calls(fake_kite, "POST", "/orders/regular")
        assert sent["tradingsymbol"] == "INFY" and sent["order_type"] == "LIMIT"
        assert Decimal(sent["price"]) == Decimal("1400") and sent["quantity"] == "2"
        kite_id = store.orders[coid].broker_order_id

        ack = await operator.ask("modify", client_order_id=coid, price="1405.5")
        assert ack["sent"] and ack["modification"] == 1, ack
        await eventually(
            lambda: kite_calls(fake_kite, "PUT", f"/orders/regular/{kite_id}"),
            timeout=10,
            message="no PUT",
        )
        [(_, modify)] = kite_calls(fake_kite, "PUT", f"/orders/regular/{kite_id}")
        assert Decimal(modify["price"]) == Decimal("1405.5")
        assert fake_kite.state.orders[str(kite_id)]["price"] == 1405.5
        await eventually(
            lambda: store.orders[coid].price == Decimal("1405.5"),
            timeout=10,
            message="the stored order kept its old price",
        )

        ack = await operator.ask("cancel", client_order_id=coid)
        assert ack["sent"], ack
        await eventually(
            lambda: store.orders[coid].status is OrderStatus.CANCELLED,
            timeout=10,
            message="the stored order is not CANCELLED",
        )
        assert [p for p, _ in kite_calls(fake_kite, "DELETE", "/orders/")] == [
            f"/orders/regular/{kite_id}"
        ]
        assert fake_kite.state.orders[str(kite_id)]["status"] == "CANCELLED"
    finally:
        await runtime.stop()


async def test_manual_market_order_carries_market_protection(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    runtime, store, operator = await running(fake_kite, isolated_home, "reqtokManual2")
    try:
        ticket = {**LIMIT_TICKET, "order_type": "MARKET", "price": None, "quantity": 1}
        ack = await operator.ask("order", ticket=ticket)
        assert ack["sent"], ack
        await eventually(
            lambda: kite_calls(fake_kite, "POST", "/orders/regular"),
            timeout=10,
            message="the market order never reached Kite",
        )
        [(_, sent)] = kite_calls(fake_kite, "POST", "/orders/regular")
        assert sent["order_type"] == "MARKET"
        # Kite refuses MARKET without a non-zero market_protection since 2026-04-01
        assert sent.get("market_protection") not in (None, "", "0"), sent
        coid = str(ack["client_order_id"])
        await eventually(
            lambda: coid in store.orders and store.orders[coid].broker_order_id is not None,
            timeout=10,
            message="Kite refused the market order",
        )
        assert store.orders[coid].status is not OrderStatus.REJECTED
    finally:
        await runtime.stop()


async def test_the_26th_modification_is_refused_before_kite_sees_it(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    runtime, store, operator = await running(fake_kite, isolated_home, "reqtokManual3")
    try:
        ack = await operator.ask("order", ticket=LIMIT_TICKET)
        coid = str(ack["client_order_id"])
        await eventually(
            lambda: coid in store.orders and store.orders[coid].broker_order_id is not None,
            timeout=10,
            message="the order never reached Kite",
        )
        kite_id = store.orders[coid].broker_order_id
        for n in range(1, MAX_MODIFICATIONS + 1):
            ack = await operator.ask("modify", client_order_id=coid, price=str(1400 + n))
            assert ack["sent"] and ack["modification"] == n, ack
        puts = f"/orders/regular/{kite_id}"
        await eventually(
            lambda: len(kite_calls(fake_kite, "PUT", puts)) == MAX_MODIFICATIONS,
            timeout=30,
            message="not every modification reached Kite",
        )

        ack = await operator.ask("modify", client_order_id=coid, price="1500")
        assert not ack["sent"]
        assert "25 modifications" in ack["error"] and "cancel it" in ack["error"]
        assert len(kite_calls(fake_kite, "PUT", puts)) == MAX_MODIFICATIONS
        assert fake_kite.state.orders[str(kite_id)]["price"] == 1400 + MAX_MODIFICATIONS
    finally:
        await runtime.stop()
