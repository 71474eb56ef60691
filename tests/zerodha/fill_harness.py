"""Execution behind the live venue: order rows and trades from the loopback Kite, read by
the real client, reach ``ExecutionService`` as ``ORDER_VENUE_UPDATE`` events, as in live."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.domain.records import OrderRecord
from engine.events import EventEnvelope, EventType, new_event, topics
from engine.events.payloads import OrderUpdate, RiskAlert, Signal
from engine.events.types import Broker, OrderType, Product, Side
from engine.execution.service import FILL_GAP_RULE, ExecutionService
from engine.processing.emitter import Emitter
from engine.trading_state.state import TradingState
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_harness import LiveVenue, live_venue

INFY = 408065
KEY = topics.order_key(Broker.ZERODHA, "ema", INFY)


@dataclass
class LiveExecution:
    venue: LiveVenue
    service: ExecutionService
    updates: ZerodhaOrderUpdates
    emitted: list[EventEnvelope] = field(default_factory=list)

    @property
    def fake(self) -> FakeKite:
        return self.venue.fake

    async def handle(self, envelope: EventEnvelope) -> None:
        out = Emitter(self.service.name, envelope, 1)
        await self.service.handle(envelope, out)
        self.emitted.extend(item.envelope for item in out.outbox)

    async def place(
        self,
        seed: str,
        quantity: int,
        order_type: OrderType = OrderType.LIMIT,
        price: Decimal | None = Decimal("1500.00"),
        trigger_price: Decimal | None = None,
    ) -> tuple[str, str]:
        """A validated signal through execution to Zerodha: (client order id, Kite id)."""
        signal = Signal(
            signal_id=seed,
            strategy="ema",
            instrument_token=INFY,
            symbol="NSE:INFY",
            side=Side.BUY,
            quantity=quantity,
            order_type=order_type,
            product=Product.MIS,
            limit_price=price,
            trigger_price=trigger_price,
            signal_ts=1,
        )
        await self.handle(new_event(EventType.SIGNAL_VALIDATED, signal, source="test", key=KEY))
        [order] = [o for o in self.venue.store.orders.values() if o.signal_id == seed]
        assert order.broker_order_id is not None, order
        return order.client_order_id, order.broker_order_id

    async def order(self, cid: str) -> OrderRecord:
        order = await self.venue.store.get_order(cid)
        assert order is not None
        return order

    def journal(self, cid: str) -> list[tuple[str, int]]:
        """(trade id, quantity) of the order's journalled fills, in journal order."""
        fills = self.venue.store.fills.values()
        return [(f.trade_id, f.quantity) for f in fills if f.client_order_id == cid]

    def position(self) -> int:
        return self.service.net_positions.get(("ema", INFY), 0)

    def events(self, *types: EventType) -> list[OrderUpdate]:
        return [e.data for e in self.emitted if e.type in types]  # type: ignore[misc]

    def gap_alerts(self) -> list[RiskAlert]:
        return [
            e.data  # type: ignore[misc]
            for e in self.emitted
            if e.type is EventType.RISK_ALERT and e.data.rule == FILL_GAP_RULE  # type: ignore[union-attr]
        ]


async def live_execution(fake: FakeKite, tmp_path: Path, **updates_kw: Any) -> LiveExecution:
    venue = await live_venue(fake, tmp_path)
    service = ExecutionService(
        bus=MemoryBus(),
        broker=Broker.ZERODHA,
        store=venue.store,
        trading_state=TradingState(Broker.ZERODHA),
        adapter=venue.adapter,
        clock=ManualClock(1),
    )
    holder: list[LiveExecution] = []

    async def to_execution(update: OrderUpdate) -> None:  # what LiveTrading's sink does
        venue.sent.append(update)
        envelope = new_event(
            EventType.ORDER_VENUE_UPDATE, update, source="zerodha.order_updates", key=KEY
        )
        await holder[0].handle(envelope)

    updates = ZerodhaOrderUpdates(venue.session.client, venue.store, to_execution, **updates_kw)
    harness = LiveExecution(venue, service, updates)
    holder.append(harness)
    return harness
