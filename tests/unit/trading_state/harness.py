"""Engine processes in miniature: each with its TradingState and TradingStateService."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from engine.bus.memory import MemoryBus, MemorySubscription
from engine.clock import Clock
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import OrderCommand, RiskAlert, TradingStateChanged
from engine.events.types import Broker, ComponentStatus
from engine.memory_store import MemoryTradingStore
from engine.processing.processor import ProcessorConfig
from engine.trading_state import TradingControl, TradingState, TradingStateService
from tests.helpers import eventually

BROKER = Broker.PAPER


class EngineProcess:
    """One process: its own trading state, obeying control commands through its service."""

    def __init__(
        self,
        bus: MemoryBus,
        store: MemoryTradingStore | None,
        instance_id: str,
        *,
        acts_on_orders: bool = True,
        clock: Clock | None = None,
        broker: Broker = BROKER,
    ) -> None:
        self.state = TradingState(broker)
        self.service = TradingStateService(
            bus=bus,
            state=self.state,
            instance_id=instance_id,
            store=store,
            acts_on_orders=acts_on_orders,
            config=ProcessorConfig(poll_timeout=0.02),
            clock=clock,
        )
        self.control = TradingControl(bus, self.state, broker, clock, operator="alice@desk")
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> EngineProcess:
        self._task = asyncio.create_task(self.service.run(), name="test:trading-state")
        await eventually(lambda: self.service.status is ComponentStatus.RUNNING)
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self.service.stop()
            await self._task
            self._task = None

    async def settle(self) -> None:
        await eventually(lambda: self.service.health().lag == 0, message="service lagging")


@dataclass
class Outputs:
    changes: list[EventEnvelope] = field(default_factory=list)
    order_commands: list[OrderCommand] = field(default_factory=list)
    alerts: list[RiskAlert] = field(default_factory=list)


class Observer:
    """What the read model and execution would receive from the trading-state services."""

    def __init__(self, sub: MemorySubscription) -> None:
        self._sub = sub
        self.seen = Outputs()

    @classmethod
    async def attach(cls, bus: MemoryBus) -> Observer:
        sub = await bus.subscribe(
            [topics.TRADING_STATE, topics.orders_commands(BROKER), topics.SYSTEM_ALERTS],
            "test-observer",
        )
        return cls(sub)

    async def drain(self) -> Outputs:
        records = await self._sub.fetch(1000, 0.01)
        for record in records:
            envelope = record.envelope
            data = envelope.data if envelope else None
            if isinstance(data, TradingStateChanged):
                self.seen.changes.append(envelope)  # type: ignore[arg-type]
            elif isinstance(data, OrderCommand):
                self.seen.order_commands.append(data)
            elif isinstance(data, RiskAlert):
                self.seen.alerts.append(data)
        if records:
            await self._sub.commit(records)
        return self.seen

    async def close(self) -> None:
        await self._sub.aclose()
