"""``ReadModelProcessor``: keeps a console's ``ReadModel`` current from the bus.

Each console reads in its own consumer group, so two consoles (or a console and the
Redis read model) each see every event; the handler only assigns fields, so it keeps
up with the tick stream and is idempotent by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from engine.bus.base import EventBus, Subscription
from engine.clock import Clock
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import FundsSnapshot, Tick
from engine.events.types import Broker
from engine.ids import uuid7_str
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.read_model.alert_seed import AlertSource, seed_alerts
from engine.read_model.funds_relay import apply_funds
from engine.read_model.model import APPLY, ReadModel
from engine.read_model.seed import (
    ProtectionSource,
    ReadModelSource,
    seed_protections,
    seed_read_model,
)

log = logging.getLogger("alphapanda.read_model")


def read_model_topics(broker: Broker) -> list[str]:
    """Everything a console shows for one broker."""
    return [
        topics.MARKET_TICKS,
        topics.orders_events(broker),
        topics.signals_rejected(broker),  # risk refusals, for the orders book
        topics.positions(broker),
        topics.pnl_snapshots(broker),
        topics.SYSTEM_ALERTS,
        topics.SYSTEM_HEALTH,
        topics.TRADING_STATE,
    ]


def attached_from_end() -> tuple[str, ...]:
    """The topics an attached console starts at their end: the tick stream (a day of it
    replayed showed yesterday's clock for a minute; the next tick gives prices and clock)
    and health reports (the read-model cache holds the last one). Orders, positions, P&L,
    alerts and states are read from the earliest kept: they are few, and the cache does
    not hold all of them."""
    return (topics.MARKET_TICKS, topics.SYSTEM_HEALTH)


# How each event the console follows (ticks aside) changes the model, by payload type:
# the model's own events, and the funds the venue's process publishes (``funds_relay``).
_APPLY: dict[type, Callable[[ReadModel, Any], None]] = {**APPLY, FundsSnapshot: apply_funds}


class ReadModelProcessor(StreamProcessor):
    """Applies ticks, orders, positions, P&L, alerts, health and trading states to a model.

    With a ``seed`` store it first draws the day's orders, the positions, the last P&L and
    the day's alerts (the unread CRITICAL pinned) from it (once, before the first event),
    so a restarted console is not blank until the pipeline next publishes.
    """

    def __init__(
        self,
        *,
        bus: EventBus,
        model: ReadModel,
        broker: Broker,
        console_id: str | None = None,
        config: ProcessorConfig | None = None,
        clock: Clock | None = None,
        seed: ReadModelSource | None = None,
        from_end: Collection[str] = (),
    ) -> None:
        """``from_end``: topics a new console starts at their end, not their earliest
        message, because their state reached it otherwise (``attached_from_end``)."""
        console_id = console_id or uuid7_str()
        super().__init__(
            name=f"read-model.{broker.value}",
            bus=bus,
            input_topics=read_model_topics(broker),
            group=f"console.{broker.value}.{console_id}",
            config=config or ProcessorConfig(batch_size=1024),
            clock=clock,
        )
        self.model = model
        self.broker = broker
        self._seed = seed
        self.from_end = tuple(from_end)

    async def subscribe(self) -> Subscription:
        if not self.from_end:
            return await super().subscribe()
        return await self.bus.subscribe_from_end(self.input_topics, self.group, self.from_end)

    def lag(self) -> int:
        """Messages on the console's topics it has not read yet (0 when not reading)."""
        sub = self.subscription
        return sub.lag() if sub is not None else 0

    async def on_start(self) -> None:
        """Seed from the store once; a restarted processor keeps what it has drawn since."""
        seed, self._seed = self._seed, None
        if seed is None:
            return
        try:
            await seed_read_model(self.model, seed, self.broker)
        except Exception as exc:  # the console still fills from the bus
            log.warning("read model not seeded from the store", extra={"error": str(exc)})
        if isinstance(seed, ProtectionSource):  # a store without protections: none to show
            try:
                await seed_protections(self.model, seed, self.broker)
            except Exception as exc:
                log.warning("protections not seeded from the store", extra={"error": str(exc)})
        if isinstance(seed, AlertSource):  # after the clock the seed set: the run's day
            try:
                await seed_alerts(self.model, seed, self.broker)
            except Exception as exc:
                log.warning("alerts not seeded from the store", extra={"error": str(exc)})

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        data = envelope.data
        model = self.model
        if type(data) is Tick:  # the hot path first
            model.apply_tick(data)
            return
        if envelope.broker is not None and envelope.broker is not self.broker:
            return  # the other venue's alerts and states are not ours
        apply = _APPLY.get(type(data))
        if apply is not None:
            apply(model, data)
