"""The one message shape on every bus: ``EventEnvelope`` around a typed payload."""

from __future__ import annotations

import time

import msgspec

from engine.events.payloads import (
    AlertsAcknowledged,
    AnyPayload,
    ControlCommand,
    DeadLetter,
    FundsSnapshot,
    HealthReport,
    OrderCommand,
    OrderIntent,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    ProtectionCommand,
    ProtectionState,
    ReconciliationDiff,
    RejectedSignal,
    RiskAlert,
    Signal,
    Tick,
    TradingStateChanged,
)
from engine.events.types import Broker, EventType
from engine.ids import uuid7_str

SCHEMA_VERSION = 1

PAYLOAD_FOR_TYPE: dict[EventType, type] = {
    EventType.MARKET_TICK: Tick,
    EventType.SIGNAL_RAW: Signal,
    EventType.SIGNAL_VALIDATED: Signal,
    EventType.SIGNAL_REJECTED: RejectedSignal,
    EventType.ORDER_INTENT: OrderIntent,
    EventType.ORDER_SUBMITTED: OrderUpdate,
    EventType.ORDER_OPEN: OrderUpdate,
    EventType.ORDER_PARTIALLY_FILLED: OrderUpdate,
    EventType.ORDER_FILLED: OrderUpdate,
    EventType.ORDER_REJECTED: OrderUpdate,
    EventType.ORDER_CANCELLED: OrderUpdate,
    EventType.ORDER_MODIFIED: OrderUpdate,
    EventType.ORDER_COMMAND: OrderCommand,
    EventType.ORDER_VENUE_UPDATE: OrderUpdate,
    EventType.PNL_SNAPSHOT: PnlSnapshot,
    EventType.POSITION_UPDATED: PositionSnapshot,
    EventType.RISK_ALERT: RiskAlert,
    EventType.ALERTS_ACKNOWLEDGED: AlertsAcknowledged,
    EventType.HEALTH: HealthReport,
    EventType.CONTROL_COMMAND: ControlCommand,
    EventType.TRADING_STATE_CHANGED: TradingStateChanged,
    EventType.RECONCILIATION_DIFF: ReconciliationDiff,
    EventType.PROTECTION_COMMAND: ProtectionCommand,
    EventType.PROTECTION_UPDATED: ProtectionState,
    EventType.FUNDS_UPDATED: FundsSnapshot,
    EventType.DEAD_LETTER: DeadLetter,
}


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Metadata every event carries, plus its payload.

    ``gc=False``: frozen and holding only immutable values, an envelope can never be part
    of a reference cycle, so the cyclic GC need not track the thousands a bus retains.

    ``correlation_id`` follows one business flow (tick → signal → order → fill);
    ``causation_id`` names the event that directly caused this one.
    """

    id: str
    type: EventType
    ts: int  # UTC ns when the event was created
    source: str
    data: AnyPayload
    version: int = SCHEMA_VERSION
    broker: Broker | None = None
    key: str = ""
    correlation_id: str = ""
    causation_id: str | None = None
    trace_id: str = ""


def new_event(
    type_: EventType,
    data: AnyPayload,
    *,
    source: str,
    key: str = "",
    broker: Broker | None = None,
    cause: EventEnvelope | None = None,
    ts_ns: int | None = None,
) -> EventEnvelope:
    """Build an envelope; when ``cause`` is given, carry its correlation and trace forward."""
    event_id = uuid7_str()
    if cause is not None:
        correlation_id = cause.correlation_id or cause.id
        trace_id = cause.trace_id or correlation_id
        causation_id: str | None = cause.id
    else:
        correlation_id = trace_id = event_id
        causation_id = None
    return EventEnvelope(
        id=event_id,
        type=type_,
        ts=time.time_ns() if ts_ns is None else ts_ns,
        source=source,
        data=data,
        broker=broker,
        key=key,
        correlation_id=correlation_id,
        causation_id=causation_id,
        trace_id=trace_id,
    )
