"""The wire codec: every event type round-trips; anything malformed is a DecodeError."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events.codec import DecodeError, EventCodec, decode_any
from engine.events.envelope import PAYLOAD_FOR_TYPE, SCHEMA_VERSION, EventEnvelope, new_event
from engine.events.types import Broker, EventType
from tests.unit.events.samples import SAMPLES, tick

FORMATS = ["json", "msgpack"]


@pytest.mark.parametrize("wire_format", FORMATS)
@pytest.mark.parametrize("event_type", list(EventType), ids=lambda t: t.value)
def test_every_event_type_round_trips(wire_format: str, event_type: EventType) -> None:
    codec = EventCodec(wire_format)  # type: ignore[arg-type]
    payload = SAMPLES[PAYLOAD_FOR_TYPE[event_type]]
    envelope = new_event(event_type, payload, source="test", key="k1", broker=Broker.PAPER)  # type: ignore[arg-type]

    decoded = codec.decode(codec.encode(envelope))

    assert decoded == envelope
    assert decode_any(codec.encode(envelope)) == envelope


def test_every_event_type_has_a_payload_type() -> None:
    assert set(PAYLOAD_FOR_TYPE) == set(EventType)


@pytest.mark.parametrize("wire_format", FORMATS)
def test_other_schema_version_is_rejected(wire_format: str) -> None:
    codec = EventCodec(wire_format)  # type: ignore[arg-type]
    envelope = msgspec.structs.replace(
        new_event(EventType.MARKET_TICK, tick(), source="t"), version=SCHEMA_VERSION + 1
    )

    with pytest.raises(DecodeError, match="schema version"):
        codec.decode(codec.encode(envelope))


@pytest.mark.parametrize("wire_format", FORMATS)
def test_payload_that_does_not_match_the_type_is_rejected(wire_format: str) -> None:
    codec = EventCodec(wire_format)  # type: ignore[arg-type]
    wrong = new_event(EventType.ORDER_FILLED, tick(), source="t")

    with pytest.raises(DecodeError, match="does not match event type"):
        codec.decode(codec.encode(wrong))


@pytest.mark.parametrize(
    "raw",
    [b"", b"garbage", b"{", b'{"id": 1}', b"\x81\xa2id\x01", b"[1,2,3]", b"\xff\xfe\x00"],
)
def test_garbage_is_a_decode_error(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_any(raw)
    for wire_format in FORMATS:
        with pytest.raises(DecodeError):
            EventCodec(wire_format).decode(raw)  # type: ignore[arg-type]


def test_invalid_field_values_are_rejected() -> None:
    raw = msgspec.json.encode(new_event(EventType.MARKET_TICK, tick(), source="t"))
    broken = raw.replace(b'"last_price":"22000.05"', b'"last_price":"not a price"')
    assert broken != raw

    with pytest.raises(DecodeError):
        EventCodec("json").decode(broken)


def test_unknown_wire_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown wire format"):
        EventCodec("xml")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_ever_raise_decode_error(raw: bytes) -> None:
    for decode in (decode_any, EventCodec("json").decode, EventCodec("msgpack").decode):
        try:
            result = decode(raw)
        except DecodeError:
            continue
        assert isinstance(result, EventEnvelope)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40), st.integers(min_value=0))
def test_corrupted_valid_messages_only_raise_decode_error(noise: bytes, at: int) -> None:
    raw = EventCodec("msgpack").encode(new_event(EventType.MARKET_TICK, tick(), source="t"))
    at %= len(raw)
    corrupted = raw[:at] + noise + raw[at + len(noise) :]
    try:
        decode_any(corrupted)
    except DecodeError:
        pass
