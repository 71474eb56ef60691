"""Funds for consoles in other processes: the figures travel the bus as ``FundsSnapshot``.

Only the process holding the venue knows the account's funds (paper: the funds model
beside execution; live: Kite's ``margins()`` read by the venue), and it hands them to its
own read model. ``FundsRelay`` publishes them from there on the account's topic (the P&L
topic, keyed ``{broker}:funds``), so an attached console's read model, and the Redis read
cache it starts from, show the same line. ``as_of_ns`` orders copies: the newest wins, so
a process reading its own snapshot back, or a late redelivery, never steps the figures
back.
"""

from __future__ import annotations

import logging

from engine.bus.base import EventBus
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ComponentHealth, FundsSnapshot
from engine.events.types import Broker, ComponentStatus, EventType
from engine.execution.funds import Funds
from engine.periodic import PeriodicService
from engine.read_model.model import ReadModel

log = logging.getLogger("alphapanda.read_model")
RELAY_INTERVAL_S = 0.25  # funds change on fills and order changes: four looks a second


def funds_snapshot(broker: Broker, funds: Funds) -> FundsSnapshot:
    return FundsSnapshot(
        broker=broker,
        available=funds.available,
        used=funds.used,
        source=funds.source,
        as_of_ns=funds.as_of_ns,
    )


def funds_of(snapshot: FundsSnapshot) -> Funds:
    return Funds(
        available=snapshot.available,
        used=snapshot.used,
        source=snapshot.source,
        as_of_ns=snapshot.as_of_ns,
    )


def apply_funds(model: ReadModel, snapshot: FundsSnapshot) -> None:
    """Show ``snapshot`` unless the model already has newer figures."""
    current = model.funds
    if current is None or snapshot.as_of_ns >= current.as_of_ns:
        model.set_funds(funds_of(snapshot))


def funds_key(broker: Broker) -> str:
    return topics.broker_name(broker) + ":funds"


class FundsRelay(PeriodicService):
    """Publishes the read model's funds whenever newer figures arrived there."""

    round_failed = "funds not published"
    failure_log = log

    def __init__(
        self,
        *,
        bus: EventBus,
        model: ReadModel,
        broker: Broker,
        interval_s: float = RELAY_INTERVAL_S,
    ) -> None:
        super().__init__(f"funds-relay.{broker.value}", interval_s)
        self.bus = bus
        self.model = model
        self.broker = broker
        self._published_ns = -1  # as_of_ns of the newest figures published
        self.published = 0

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name, status=ComponentStatus.RUNNING, processed=self.published
        )

    async def run_once(self) -> None:
        funds = self.model.funds
        if funds is None or funds.as_of_ns <= self._published_ns:
            return  # nothing yet, or these (or newer) already went out
        event = new_event(
            EventType.FUNDS_UPDATED,
            funds_snapshot(self.broker, funds),
            source=self.name,
            key=funds_key(self.broker),
            broker=self.broker,
        )
        await self.bus.publish(topics.pnl_snapshots(self.broker), event)
        self._published_ns = funds.as_of_ns
        self.published += 1
