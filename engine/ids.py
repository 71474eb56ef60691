"""Identifiers: time-ordered UUIDv7 event ids and Kite-compatible client order ids."""

from __future__ import annotations

import hashlib
import os
import time
import uuid

_TAG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def uuid7(ts_ms: int | None = None) -> uuid.UUID:
    """RFC 9562 UUIDv7: 48-bit unix milliseconds, then random bits; sorts by creation time."""
    ms = time.time_ns() // 1_000_000 if ts_ms is None else ts_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF
    return uuid.UUID(int=value)


def uuid7_str() -> str:
    return str(uuid7())


def client_order_id(seed: str, prefix: str = "AP") -> str:
    """A deterministic client order id that fits Kite's ``tag`` (alphanumeric, at most 20 chars).

    Deterministic in ``seed`` (the signal's event id) so that a redelivered signal maps to
    the same id and the unique constraint in the outbox refuses to send it twice.
    """
    digest = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=12).digest(), "big")
    chars = []
    for _ in range(18 - len(prefix) + 2):
        digest, rem = divmod(digest, 62)
        chars.append(_TAG_ALPHABET[rem])
    return (prefix + "".join(chars))[:20]


def derived_uuid7(cause_id: str, salt: str, index: int, ts_ms: int) -> str:
    """A UUIDv7 whose random bits derive from (cause, processor, index).

    A handler that is retried emits the very same ids again, so downstream dedup by event
    id turns an at-least-once redelivery into an effectively-once effect.
    """
    digest = hashlib.blake2b(f"{cause_id}|{salt}|{index}".encode(), digest_size=10).digest()
    rand = int.from_bytes(digest, "big")
    value = (ts_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF
    return str(uuid.UUID(int=value))
