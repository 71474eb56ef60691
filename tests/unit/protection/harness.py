"""A protection service over a memory store holding one position, driven event by event;
the events themselves are built as the risk tests build them (``tests.unit.risk.harness``)."""

from __future__ import annotations

from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.domain.records import PositionRecord
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import ProtectionCommand, Signal
from engine.events.types import EventType
from engine.memory_store import MemoryTradingStore
from engine.processing.emitter import Emitter
from engine.protection.service import ProtectionService
from engine.trading_state.state import TradingState
from tests.unit.risk.harness import BROKER as P
from tests.unit.risk.harness import RELIANCE as TOKEN
from tests.unit.risk.harness import RELIANCE_SYMBOL as SYMBOL
from tests.unit.risk.harness import make_tick, position_snapshot

TICK = Decimal("0.05")


class Harness:
    """A service over a memory store holding one position; ``send`` runs one event."""

    def __init__(self, store: MemoryTradingStore, state: TradingState | None = None) -> None:
        self.store = store
        self.state = state or TradingState(P)
        self.service = ProtectionService(
            bus=MemoryBus(),
            broker=P,
            store=store,
            trading_state=self.state,
            tick_size_of=lambda _token: TICK,
        )
        self.ts = 1_767_600_000_000_000_000

    @classmethod
    async def holding(cls, net: int, average: str = "1000.00") -> Harness:
        store = MemoryTradingStore()
        await store.upsert_position(
            PositionRecord(
                broker=P,
                strategy="manual",
                instrument_token=TOKEN,
                symbol=SYMBOL,
                net_quantity=net,
                average_price=Decimal(average),
            )
        )
        harness = cls(store)
        await harness.service.on_start()
        return harness

    async def restart(self) -> Harness:
        again = Harness(self.store, self.state)
        await again.service.on_start()
        return again

    async def send(self, envelope: EventEnvelope) -> list[object]:
        if self.service.handle_now(envelope):
            return []
        out = Emitter(self.service.name, envelope, self.ts)
        await self.service.handle(envelope, out)
        return [o.envelope.data for o in out.outbox]

    def tick_event(self, price: str) -> EventEnvelope:
        self.ts += 1_000_000_000
        tick = make_tick(price, TOKEN, self.ts)
        return new_event(EventType.MARKET_TICK, tick, source="feed", key=str(TOKEN))

    async def tick(self, price: str) -> list[Signal]:
        return [d for d in await self.send(self.tick_event(price)) if isinstance(d, Signal)]

    async def protect(self, **levels: Decimal) -> list[object]:
        command = ProtectionCommand(broker=P, strategy="manual", instrument_token=TOKEN, **levels)
        return await self.send(
            new_event(EventType.PROTECTION_COMMAND, command, source="ops", broker=P)
        )

    async def position(self, net: int, average: str = "1000.00") -> list[object]:
        snapshot = position_snapshot(net, average, "manual", TOKEN)
        event = new_event(EventType.POSITION_UPDATED, snapshot, source="portfolio", broker=P)
        return await self.send(event)
