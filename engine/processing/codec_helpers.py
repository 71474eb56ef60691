"""Reading dead letters back: the original envelope is kept whole, encoded."""

from __future__ import annotations

from engine.events.codec import decode_any
from engine.events.envelope import EventEnvelope
from engine.events.payloads import DeadLetter


def decode_dead_letter_original(letter: DeadLetter) -> EventEnvelope:
    """The envelope that failed (raises DecodeError when the original was never valid)."""
    return decode_any(letter.original)
