"""Identifiers: time-ordered UUIDv7 event ids and Kite-compatible client order ids."""

from __future__ import annotations

import hashlib
import os
import random
import time
import uuid

try:  # CPython's builtin MD5 is about twice as fast as OpenSSL's for short inputs
    from _md5 import md5 as _md5  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - builds without the builtin module
    from hashlib import md5 as _md5

_time_ns = time.time_ns
_id_random = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_id_random.seed)
_getrandbits = _id_random.getrandbits
_prefix: list = [-1, ""]  # [unix ms, "tttttttt-tttt-7"] of the last id
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
    """A UUIDv7 string formatted directly (no ``uuid.UUID``): one is built per tick.

    The 74 random bits come from a generator seeded from ``os.urandom`` and re-seeded in
    every forked child: ids need to be unique, not unpredictable, and this is several
    times cheaper than a system call per id.
    """
    ms = _time_ns() // 1_000_000
    if ms != _prefix[0]:  # the time part changes once a millisecond: format it once
        stamp = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
        _prefix[:] = [ms, f"{stamp[:8]}-{stamp[8:]}-7"]
    rand = f"{_getrandbits(76):019x}"
    return f"{_prefix[1]}{rand[:3]}-{_VARIANT[rand[3]]}{rand[4:7]}-{rand[7:]}"


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
    """A UUIDv7 with the given time whose random bits derive from (cause, processor, index).

    A handler that is retried emits the very same ids again, so downstream dedup by event
    id turns an at-least-once redelivery into an effectively-once effect.
    """
    stamp = f"{ts_ms & 0xFFFF_FFFF_FFFF:012x}"
    return _with_digest(f"{stamp[:8]}-{stamp[8:]}", cause_id, salt, index)


def derived_event_id(cause_id: str, salt: str, index: int) -> str:
    """The id of the ``index``-th event that ``salt`` (a processor) emits for ``cause_id``.

    Deterministic across retries and restarts (no clock, no process-seeded hash), unique
    per (cause, processor, index), and time-ordered: a UUIDv7 cause lends its millisecond
    prefix. Costs one short MD5 (a checksum here, not security), about a quarter of a
    microsecond, which matters because every emitted event pays it.
    """
    if len(cause_id) == 36 and cause_id[8] == "-" and cause_id[14] == "7":
        return _with_digest(cause_id[:13], cause_id, salt, index)
    digest = _md5(f"{cause_id}|{salt}|{index}|t".encode()).hexdigest()
    return _with_digest(f"{digest[:8]}-{digest[8:12]}", cause_id, salt, index)


def _with_digest(prefix: str, cause_id: str, salt: str, index: int) -> str:
    """``prefix`` (48 time bits, dashed) + version 7 + 74 bits of MD5 + RFC 9562 variant."""
    h = _md5(f"{cause_id}|{salt}|{index}".encode()).hexdigest()
    return f"{prefix}-7{h[:3]}-{_VARIANT[h[3]]}{h[4:7]}-{h[7:19]}"


# Variant bits "10" followed by the low two bits of a hex digit.
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
