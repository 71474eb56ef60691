"""``ManualOutcomes``: risk's refusals of manual orders, kept where the CLI can read them.

A refused signal becomes no order, so the order book cannot say why a manual order never
appeared; this processor writes an ``outcome.order`` audit row per refused manual signal
(its id, the rule, the reason and what was asked), which ``alphapanda order`` waits for
and ``alphapanda orders --rejected`` lists beside the venue's rejections.
"""

from __future__ import annotations

from typing import Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.records import AuditRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import RejectedSignal
from engine.events.types import Broker
from engine.processing import StreamProcessor
from engine.processing.emitter import Emitter
from engine.trading_state.manual import MANUAL_STRATEGY

OUTCOME_ORDER = "outcome.order"


class AuditSink(Protocol):
    async def add_audit(self, record: AuditRecord) -> None: ...


class ManualOutcomes(StreamProcessor):
    """Records each risk rejection of a manual order in the audit log."""

    def __init__(
        self, *, bus: EventBus, broker: Broker, store: AuditSink, clock: Clock | None = None
    ) -> None:
        super().__init__(
            name=f"manual-outcomes-{broker.value}",
            bus=bus,
            input_topics=[topics.signals_rejected(broker)],
            clock=clock,
        )
        self._store = store
        self._broker = broker

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        rejected = envelope.data
        if not isinstance(rejected, RejectedSignal):
            return
        if rejected.signal.strategy != MANUAL_STRATEGY:
            return
        signal = rejected.signal
        await self._store.add_audit(
            AuditRecord(
                audit_ts=self.clock.now_ns(),
                actor=self.name,
                action=OUTCOME_ORDER,
                detail={
                    "signal_id": signal.signal_id,
                    "broker": self._broker.value,
                    "rule": rejected.rule,
                    "reason": rejected.reason,
                    # what was refused, for 'alphapanda orders --rejected'
                    "side": signal.side.value,
                    "quantity": signal.quantity,
                    "symbol": signal.symbol,
                    "order_type": signal.order_type.value,
                    "product": signal.product.value,
                    "price": None if signal.limit_price is None else str(signal.limit_price),
                    "trigger_price": (
                        None if signal.trigger_price is None else str(signal.trigger_price)
                    ),
                },
            )
        )
