"""The dead letter a processor writes for a record it sets aside: the error, the attempt
count and the record as it arrived, so an operator can inspect and replay it."""

from __future__ import annotations

from engine.bus.base import Record
from engine.events.codec import EventCodec
from engine.events.payloads import DeadLetter

_MAX_ORIGINAL_TEXT = 64 * 1024
_CODEC = EventCodec("msgpack")


def printable(text: str) -> str:
    """``text`` that encodes as UTF-8 (lone surrogates replaced): a dead letter must travel."""
    return text.encode("utf-8", "replace").decode("utf-8")


def original_bytes(record: Record) -> tuple[bytes, str]:
    """The record as it arrived, or re-encoded, and why it could not be ("" when it could).

    An envelope that cannot be encoded (a year-10000 ns timestamp beyond 64 bits) is kept
    as its text instead of failing the dead letter, which would crash the processor on
    the record it sets aside.
    """
    if record.raw is not None:
        return record.raw, ""
    if record.envelope is None:
        return b"", ""
    try:
        return _CODEC.encode(record.envelope), ""
    except Exception as exc:  # any encoding failure: the letter must still be written
        text = repr(record.envelope)[:_MAX_ORIGINAL_TEXT]
        return printable(text).encode("utf-8"), f"{type(exc).__name__}: {exc}"


def dead_letter(record: Record, error: str, attempts: int, processor: str) -> DeadLetter:
    """The payload for ``{topic}.dlq``: the record kept whole, the error kept printable."""
    original, unencodable = original_bytes(record)
    if unencodable:
        error = f"{error}; the record cannot be encoded ({unencodable}), kept as text"
    return DeadLetter(
        source_topic=record.topic,
        error=printable(error[:2000]),
        attempts=attempts,
        processor=processor,
        original=original,
        original_key=record.key,
    )


def record_fields(processor: str, group: str, record: Record) -> dict[str, object]:
    """The fields every log line about ``record`` carries (a dead letter's among them)."""
    envelope = record.envelope
    return {
        "processor": processor,
        "group": group,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key,
        "event_id": envelope.id if envelope else None,
        "correlation_id": envelope.correlation_id if envelope else None,
    }
