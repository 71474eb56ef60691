"""Execution fixtures: the service over the memory store, driven event by event."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.domain.records import OrderRecord
from engine.events import EventEnvelope, EventType, new_event, topics
from engine.events.payloads import AnyPayload, OrderCommand, OrderIntent, Signal, Tick
from engine.events.types import Broker, OrderCommandAction, OrderType, Product, Side
from engine.execution.broker import PaperAdapter
from engine.execution.reports import PlaceAck
from engine.execution.service import ExecutionConfig, ExecutionService
from engine.market.square_off import MisCutoffs
from engine.memory_store import MemoryTradingStore
from engine.processing import ProcessorConfig
from engine.processing.emitter import Emitter
from engine.trading_state.state import TradingState

BROKER = Broker.PAPER
TOKEN = 408065
SYMBOL = "NSE:INFY"


class RecordingAdapter(PaperAdapter):
    """The paper adapter, counting sends and noting what the outbox held at each send."""

    def __init__(self, store: MemoryTradingStore) -> None:
        super().__init__()
        self.store = store
        self.placed: list[OrderIntent] = []
        self.stored_at_send: list[OrderRecord | None] = []

    async def place(self, intent: OrderIntent) -> PlaceAck:
        self.placed.append(intent)
        self.stored_at_send.append(await self.store.get_order(intent.client_order_id))
        return await super().place(intent)


class Harness:
    """Feeds events straight into ``handle`` and returns what the service emitted."""

    def __init__(
        self,
        settings: ExecutionConfig | None = None,
        *,
        broker: Broker = BROKER,
        mis_cutoffs: MisCutoffs | None = None,
    ) -> None:
        self.broker = broker
        self.mis_cutoffs = mis_cutoffs
        # Events here are stamped a few ns after 1970's 05:30 IST, past a 15:20 of the
        # day before: the paper venue's own square-off runs only with the MIS tests.
        self.venue_square_off = None if mis_cutoffs is not None else MisCutoffs({})
        self.store = MemoryTradingStore()
        self.state = TradingState(broker)
        self.adapter = RecordingAdapter(self.store)
        self.clock = ManualClock(start_ns=1_000)
        self.bus = MemoryBus()
        self.service = self.build(settings)

    def build(
        self, settings: ExecutionConfig | None = None, config: ProcessorConfig | None = None
    ) -> ExecutionService:
        return ExecutionService(
            bus=self.bus,
            broker=self.broker,
            store=self.store,
            trading_state=self.state,
            adapter=self.adapter,
            settings=settings,
            mis_cutoffs=self.mis_cutoffs,
            venue_square_off=self.venue_square_off,
            config=config,
            clock=self.clock,
        )

    async def feed(self, envelope: EventEnvelope) -> list[EventEnvelope]:
        out = Emitter(self.service.name, envelope, self.clock.now_ns())
        await self.service.handle(envelope, out)
        return [item.envelope for item in out.outbox]

    async def signal(self, signal: Signal) -> list[EventEnvelope]:
        return await self.feed(signal_event(signal))

    async def tick(self, last: str, bid: str | None = None, ask: str | None = None, ts: int = 5):
        return await self.feed(tick_event(last, bid, ask, ts))

    async def command(
        self, action: OrderCommandAction, ts: int = 2, **fields
    ) -> list[EventEnvelope]:
        return await self.feed(command_event(action, ts, **fields))


def make_signal(
    signal_id: str = "sig-1",
    side: Side = Side.BUY,
    quantity: int = 10,
    order_type: OrderType = OrderType.MARKET,
    limit: str | None = None,
    trigger: str | None = None,
    strategy: str = "ema",
    product: Product = Product.MIS,
) -> Signal:
    return Signal(
        signal_id=signal_id,
        strategy=strategy,
        instrument_token=TOKEN,
        symbol=SYMBOL,
        side=side,
        quantity=quantity,
        order_type=order_type,
        product=product,
        limit_price=D(limit) if limit else None,
        trigger_price=D(trigger) if trigger else None,
        signal_ts=3,
    )


def _event(type_: EventType, data: AnyPayload, key: str, ts: int = 2) -> EventEnvelope:
    return new_event(type_, data, source="test", key=key, broker=BROKER, ts_ns=ts)


def signal_event(signal: Signal) -> EventEnvelope:
    key = topics.order_key(BROKER, signal.strategy, signal.instrument_token)
    return _event(EventType.SIGNAL_VALIDATED, signal, key)


def make_tick(last: str, bid: str | None = None, ask: str | None = None, ts: int = 5) -> Tick:
    return Tick(
        instrument_token=TOKEN,
        symbol=SYMBOL,
        last_price=D(last),
        exchange_ts=ts,
        bid=D(bid) if bid else None,
        ask=D(ask) if ask else None,
    )


def tick_event(last: str, bid: str | None = None, ask: str | None = None, ts: int = 5):
    return new_event(
        EventType.MARKET_TICK, make_tick(last, bid, ask, ts), source="feed", key=str(TOKEN)
    )


def command_event(action: OrderCommandAction, ts: int = 2, **fields) -> EventEnvelope:
    command = OrderCommand(action=action, broker=BROKER, **fields)
    return _event(EventType.ORDER_COMMAND, command, "", ts)


def types_of(events: list[EventEnvelope]) -> list[EventType]:
    return [e.type for e in events]


@pytest.fixture
async def harness() -> Harness:
    h = Harness()
    await h.service.on_start()
    return h
