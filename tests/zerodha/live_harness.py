"""A logged-in live venue against the loopback Kite: session, adapter, updates, store."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.clock import ManualClock
from engine.domain.records import OrderRecord
from engine.events.payloads import OrderIntent, OrderUpdate
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side
from engine.ids import client_order_id
from engine.memory_store import MemoryTradingStore
from engine.zerodha.adapter import ZerodhaAdapter, ZerodhaConfig
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from engine.zerodha.rate_limit import OrderRateLimiter, RateLimits
from engine.zerodha.session import ZerodhaSession
from storage.token_store import FileTokenStore
from tests.kite_fake.server import FakeKite


@dataclass
class LiveVenue:
    fake: FakeKite
    session: ZerodhaSession
    adapter: ZerodhaAdapter
    store: MemoryTradingStore
    updates: ZerodhaOrderUpdates
    sent: list[OrderUpdate] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)

    def place_posts(self) -> int:
        """How many place requests reached the fake broker."""
        return sum(
            1 for m, p, _ in self.fake.state.requests if m == "POST" and p.startswith("/orders/")
        )

    async def outbox(
        self, seed: str, order_type: OrderType = OrderType.MARKET, **kw: Any
    ) -> OrderIntent:
        return await write_outbox(self.store, seed, order_type, **kw)

    async def mark_sent(self, cid: str, broker_order_id: str | None, status: OrderStatus) -> None:
        await mark_sent(self.store, cid, broker_order_id, status)


async def write_outbox(
    store: MemoryTradingStore,
    seed: str,
    order_type: OrderType = OrderType.MARKET,
    quantity: int = 10,
    price: Decimal | None = None,
    trigger_price: Decimal | None = None,
    side: Side = Side.BUY,
) -> OrderIntent:
    """Write the intent to the store (as execution does before sending) and return it."""
    intent = OrderIntent(
        client_order_id=client_order_id(seed),
        signal_id=seed,
        strategy="ema",
        broker=Broker.ZERODHA,
        instrument_token=408065,
        symbol="NSE:INFY",
        side=side,
        quantity=quantity,
        order_type=order_type,
        product=Product.MIS,
        price=price,
        trigger_price=trigger_price,
    )
    fields = {f: getattr(intent, f) for f in OrderRecord.__struct_fields__ if hasattr(intent, f)}
    fields.pop("status", None)
    await store.insert_order(OrderRecord(**fields))
    return intent


async def mark_sent(
    store: MemoryTradingStore, cid: str, broker_order_id: str | None, status: OrderStatus
) -> None:
    """As execution does with the adapter's ack."""
    order = await store.get_order(cid)
    assert order is not None
    order.broker_order_id = broker_order_id
    order.status = status
    await store.update_order(order)


async def live_venue(
    fake: FakeKite,
    tmp_path: Path,
    *,
    timeout: float = 5.0,
    limits: RateLimits | None = None,
) -> LiveVenue:
    session = ZerodhaSession(
        api_key=fake.state.api_key,
        api_secret=fake.state.api_secret,
        api_root=fake.api_root,
        login_url=f"{fake.api_root}/connect/login",
        token_store=FileTokenStore(tmp_path / "token.json"),
        timeout=timeout,
    )
    fake.state.issue_request_token("reqtok7")
    await session.exchange("reqtok7")
    slept: list[float] = []
    clock = ManualClock(time.time_ns())

    async def sleep(seconds: float) -> None:  # the limiter's and lookup's waits, recorded
        slept.append(seconds)
        clock.advance(seconds)
        await asyncio.sleep(0)

    limiter = OrderRateLimiter(limits, clock=clock, sleep=sleep)
    adapter = ZerodhaAdapter(
        session,
        limiter=limiter,
        config=ZerodhaConfig(lookup_interval_s=0.05),
        sleep=sleep,
    )
    store = MemoryTradingStore()
    sent: list[OrderUpdate] = []

    async def sink(update: OrderUpdate) -> None:
        sent.append(update)

    updates = ZerodhaOrderUpdates(session.client, store, sink, poll_interval_s=0.05)
    return LiveVenue(fake, session, adapter, store, updates, sent, slept)
