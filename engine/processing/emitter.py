"""Handlers emit through an ``Emitter``: outputs are published only after the handler succeeds."""

from __future__ import annotations

from dataclasses import dataclass

from engine.events.envelope import EventEnvelope
from engine.events.payloads import AnyPayload
from engine.events.types import Broker, EventType
from engine.ids import derived_uuid7, uuid7_str


@dataclass(slots=True)
class Outgoing:
    topic: str
    envelope: EventEnvelope


class Emitter:
    """Collects a handler's output events; ids derive from the cause so retries repeat them."""

    __slots__ = ("_index", "cause", "now_ns", "outbox", "source")

    def __init__(self, source: str, cause: EventEnvelope | None, now_ns: int) -> None:
        self.source = source
        self.cause = cause
        self.now_ns = now_ns
        self.outbox: list[Outgoing] = []
        self._index = 0

    def emit(
        self,
        topic: str,
        type_: EventType,
        data: AnyPayload,
        *,
        key: str = "",
        broker: Broker | None = None,
    ) -> EventEnvelope:
        cause = self.cause
        if cause is not None:
            event_id = derived_uuid7(cause.id, self.source, self._index, self.now_ns // 1_000_000)
            correlation_id = cause.correlation_id or cause.id
            trace_id = cause.trace_id or correlation_id
            causation_id: str | None = cause.id
        else:
            event_id = uuid7_str()
            correlation_id = trace_id = event_id
            causation_id = None
        self._index += 1
        envelope = EventEnvelope(
            id=event_id,
            type=type_,
            ts=self.now_ns,
            source=self.source,
            data=data,
            broker=broker,
            key=key,
            correlation_id=correlation_id,
            causation_id=causation_id,
            trace_id=trace_id,
        )
        self.outbox.append(Outgoing(topic, envelope))
        return envelope
