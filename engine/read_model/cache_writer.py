"""``CacheWriter``: mirrors the read model (positions, orders, P&L, funds, health, trading state,
the unacknowledged CRITICAL alerts) into a shared cache, so attached consoles and
``alphapanda status`` start from the current picture instead of replaying the bus.

Every engine process runs one in the same consumer group, so the writes are shared out
by partition; they are idempotent (the newest state per key wins, an order update older
than the cached one is ignored), so a redelivery after a crash changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import (
    AlertsAcknowledged,
    FundsSnapshot,
    HealthReport,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RiskAlert,
    TradingStateChanged,
)
from engine.events.types import Broker, Severity
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor


class ReadModelCache(Protocol):
    """The write side of the read-model cache (``storage.read_cache.RedisReadCache``).

    Keys are prefixed by broker inside the implementation, so paper and zerodha never mix.
    """

    broker: Broker

    async def put_position(self, position: PositionSnapshot) -> None: ...
    async def put_order(self, order: OrderUpdate) -> bool: ...
    async def put_pnl(self, pnl: PnlSnapshot) -> None: ...
    async def put_funds(self, funds: FundsSnapshot) -> None: ...
    async def put_health(self, report: HealthReport) -> None: ...
    async def put_trading_state(self, state: TradingStateChanged) -> None: ...
    async def put_critical_alert(self, alert: RiskAlert) -> None:
        """Pinned until acknowledged, unless an alert of its line as new was already."""

    async def acknowledge_alerts(self, alerts: Sequence[RiskAlert]) -> None:
        """Unpin each line whose pinned alert is no newer than the acknowledged one."""


def cache_topics(broker: Broker) -> list[str]:
    return [
        topics.orders_events(broker),
        topics.positions(broker),
        topics.pnl_snapshots(broker),
        topics.SYSTEM_HEALTH,
        topics.TRADING_STATE,
        topics.SYSTEM_ALERTS,  # the CRITICAL ones and their acknowledgements
    ]


class CacheWriter(StreamProcessor):
    """Writes each read-model event of one broker to the cache; one group per cluster."""

    def __init__(
        self,
        *,
        bus: EventBus,
        cache: ReadModelCache,
        config: ProcessorConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        broker = cache.broker
        super().__init__(
            name=f"cache-writer.{broker.value}",
            bus=bus,
            input_topics=cache_topics(broker),
            group=f"cache-writer.{broker.value}",
            config=config,
            clock=clock,
        )
        self.broker = broker
        self.cache = cache

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        data = envelope.data
        if envelope.broker is not None and envelope.broker is not self.broker:
            return
        cache = self.cache
        if isinstance(data, OrderUpdate):
            await cache.put_order(data)
        elif isinstance(data, PositionSnapshot):
            await cache.put_position(data)
        elif isinstance(data, PnlSnapshot):
            # Its positions are not copied: a snapshot may be older than the last fill's
            # position on the other topic, and the cache must never step back.
            await cache.put_pnl(data)
        elif isinstance(data, FundsSnapshot):
            await cache.put_funds(data)
        elif isinstance(data, HealthReport):
            await cache.put_health(data)
        elif isinstance(data, TradingStateChanged):
            await cache.put_trading_state(data)
        elif isinstance(data, RiskAlert):
            if data.severity is Severity.CRITICAL:
                await cache.put_critical_alert(data)
        elif isinstance(data, AlertsAcknowledged):
            await cache.acknowledge_alerts(data.alerts)
