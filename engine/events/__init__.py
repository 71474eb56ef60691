"""Event contract: types, payloads, envelope, codec and topic names."""

from engine.events.codec import DecodeError, EventCodec, decode_any
from engine.events.envelope import PAYLOAD_FOR_TYPE, SCHEMA_VERSION, EventEnvelope, new_event
from engine.events.payloads import *  # noqa: F403 - the payload module is the public surface
from engine.events.types import *  # noqa: F403

__all__ = [
    "PAYLOAD_FOR_TYPE",
    "SCHEMA_VERSION",
    "DecodeError",
    "EventCodec",
    "EventEnvelope",
    "decode_any",
    "new_event",
]
