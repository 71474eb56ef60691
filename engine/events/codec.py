"""Wire codec: JSON or msgpack, schema-versioned, validated on decode.

Decoding checks the envelope shape, the schema version and that the payload type
matches the event type, so a malformed message becomes a ``DecodeError`` (and then a
dead letter), never an exception deep inside a handler.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from engine.events.envelope import PAYLOAD_FOR_TYPE, SCHEMA_VERSION, EventEnvelope

WireFormat = Literal["json", "msgpack"]


# msgspec reports most problems as its own errors, but a corrupted string can surface as a
# UnicodeDecodeError (a ValueError) from a field hook; none of them may escape as such.
_MALFORMED = (msgspec.MsgspecError, ValueError, TypeError, OverflowError, RecursionError)


class DecodeError(ValueError):
    """Raised when bytes from a boundary are not a valid envelope of this schema."""


class EventCodec:
    """Encodes and decodes envelopes; one instance per format, safe to share."""

    def __init__(self, wire_format: WireFormat = "msgpack") -> None:
        self.wire_format = wire_format
        if wire_format == "json":
            self._encoder: msgspec.json.Encoder | msgspec.msgpack.Encoder = msgspec.json.Encoder()
            self._decoder: msgspec.json.Decoder | msgspec.msgpack.Decoder = msgspec.json.Decoder(
                EventEnvelope
            )
        elif wire_format == "msgpack":
            self._encoder = msgspec.msgpack.Encoder()
            self._decoder = msgspec.msgpack.Decoder(EventEnvelope)
        else:
            raise ValueError(f"unknown wire format {wire_format!r}: use 'json' or 'msgpack'")

    def encode(self, envelope: EventEnvelope) -> bytes:
        return self._encoder.encode(envelope)

    def decode(self, raw: bytes) -> EventEnvelope:
        try:
            envelope = self._decoder.decode(raw)
        except _MALFORMED as exc:
            raise DecodeError(f"invalid envelope: {exc}") from exc
        if envelope.version != SCHEMA_VERSION:
            raise DecodeError(
                f"unsupported schema version {envelope.version} (this build reads {SCHEMA_VERSION})"
            )
        expected = PAYLOAD_FOR_TYPE[envelope.type]
        if not isinstance(envelope.data, expected):
            raise DecodeError(
                f"payload {type(envelope.data).__name__} does not match event type "
                f"{envelope.type.value} (expected {expected.__name__})"
            )
        return envelope


def decode_any(raw: bytes) -> EventEnvelope:
    """Decode bytes of either format (msgpack maps start with 0x8X/0xDE/0xDF, JSON with '{')."""
    fmt: WireFormat = "json" if raw[:1] in (b"{", b" ", b"\n") else "msgpack"
    return _CODECS[fmt].decode(raw)


_CODECS: dict[WireFormat, EventCodec] = {
    "json": EventCodec("json"),
    "msgpack": EventCodec("msgpack"),
}
