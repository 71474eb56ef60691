"""Handlers emit through an ``Emitter``: outputs are published only after the handler succeeds."""

from __future__ import annotations

import msgspec

from engine.events.envelope import EventEnvelope
from engine.events.payloads import AnyPayload
from engine.events.types import Broker, EventType
from engine.ids import derived_event_id, uuid7_str


class Outgoing(msgspec.Struct, gc=False):
    """One output: where it goes and what. A struct, so building one costs no Python call."""

    topic: str
    envelope: EventEnvelope


class Emitter:
    """Collects a handler's output events; ids derive from the cause so retries repeat them.

    The ``index``-th event emitted for a cause by processor ``source`` always gets the
    same id, on every retry and after a restart, so a downstream consumer's dedup sees a
    re-published output as the duplicate it is. ``salt`` separates id spaces of one
    processor (the dead-letter path uses its own).
    """

    __slots__ = (
        "_correlation_id",
        "_index",
        "_salt",
        "_trace_id",
        "cause",
        "now_ns",
        "outbox",
        "source",
    )

    def __init__(
        self, source: str, cause: EventEnvelope | None, now_ns: int, salt: str | None = None
    ) -> None:
        self.source = source
        self.cause = cause
        self.now_ns = now_ns
        self.outbox: list[Outgoing] = []
        self._index = 0
        self._salt = source if salt is None else salt
        if cause is not None:
            self._correlation_id = cause.correlation_id or cause.id
            self._trace_id = cause.trace_id or self._correlation_id
        else:
            self._correlation_id = self._trace_id = ""

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
        index = self._index
        self._index = index + 1
        if cause is not None:
            causation_id: str | None = cause.id
            event_id = derived_event_id(cause.id, self._salt, index)
            correlation_id, trace_id = self._correlation_id, self._trace_id
        else:
            causation_id = None
            event_id = correlation_id = trace_id = uuid7_str()
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
