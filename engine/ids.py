"""Identifiers: time-ordered UUIDv7 event ids and Kite-compatible client order ids."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import time
import uuid

from engine.memo import remember

try:  # CPython's builtin MD5 is about twice as fast as OpenSSL's for short inputs
    from _md5 import md5 as _md5  # type: ignore[import-not-found]  # private; no typeshed stub
except ImportError:  # pragma: no cover - builds without the builtin module
    from hashlib import md5 as _md5

_time_ns = time.time_ns
_id_random = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_id_random.seed)
_getrandbits = _id_random.getrandbits
# (unix ms, counter, "tttttttt-tttt-7", "-vrrr-rrrrrrrrrrrr") of the current millisecond
_Uuid7State = tuple[int, "itertools.count[int]", str, str]
_uuid7: _Uuid7State = (-1, itertools.count(), "", "")
_TAG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Two base-62 digits per entry, the less significant first (as the divmod loop emits them).
_TAG_PAIRS = [_TAG_ALPHABET[i % 62] + _TAG_ALPHABET[i // 62] for i in range(62 * 62)]
_B62_5 = 62**5
_B62_9 = 62**9
_COID_CACHE = 4_096  # client order ids remembered (risk, then execution, ask for each)
_coid_cache: dict[tuple[str, str], str] = {}
_BLAKE2B_12 = hashlib.blake2b(digest_size=12)  # never updated: copied per id


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

    RFC 9562 method 1: ``rand_a`` (12 bits) is a counter within the millisecond and
    ``rand_b`` (62 bits) is drawn once per millisecond (and again if the counter runs
    out), so an id costs one short format instead of a 76-bit draw and five slices. Each
    id is built from one immutable state tuple and ``next()`` on its counter (atomic), so
    threads never share an id. The bits come from a generator seeded from ``os.urandom``
    and re-seeded in every forked child: ids need to be unique, not unpredictable.
    """
    ms = _time_ns() // 1_000_000
    state = _uuid7
    if ms != state[0]:
        state = _new_uuid7_millisecond(ms)
    count = next(state[1])
    if count > 0xFFF:  # 4,096 ids in one millisecond: draw a new rand_b
        state = _new_uuid7_millisecond(ms)
        count = next(state[1])
    return f"{state[2]}{count:03x}{state[3]}"


def _new_uuid7_millisecond(ms: int) -> _Uuid7State:
    """Format the time part, start the counter and draw ``rand_b`` for ``ms``."""
    global _uuid7
    stamp = f"{ms & 0xFFFF_FFFF_FFFF:012x}"
    rand = f"{_getrandbits(64):016x}"
    tail = f"-{_VARIANT[rand[0]]}{rand[1:4]}-{rand[4:]}"
    # A random start low in the counter space leaves room for this millisecond's ids.
    state = _uuid7 = (ms, itertools.count(_getrandbits(10)), f"{stamp[:8]}-{stamp[8:]}-7", tail)
    return state


def _forget_uuid7_state() -> None:
    """In a forked child: never continue the parent's millisecond (same counter, same bits)."""
    global _uuid7
    _uuid7 = (-1, itertools.count(), "", "")


def client_order_id(seed: str, prefix: str = "AP") -> str:
    """A deterministic client order id that fits Kite's ``tag`` (alphanumeric, at most 20 chars).

    Deterministic in ``seed`` (the signal's event id) so that a redelivered signal maps to
    the same id and the unique constraint in the outbox refuses to send it twice: the
    blake2b digest in base 62, least significant digit first. Risk and execution both ask
    for the id of each validated signal, so the last ids are remembered (a bounded map).
    """
    cache_key = (seed, prefix)
    cached = _coid_cache.get(cache_key)
    if cached is not None:
        return cached
    hasher = _BLAKE2B_12.copy()  # a copy skips parsing the constructor's keywords
    hasher.update(seed.encode())
    digest = int.from_bytes(hasher.digest(), "big")
    digits = 18 - len(prefix) + 2
    if digits == 18:  # a two-letter prefix ("AP", "SQ"): nine digits from each half
        high, low = divmod(digest, _B62_9)  # the 96-bit digest is below 62 ** 18
        coid = prefix + _nine_digits(low) + _nine_digits(high)
    else:
        chars = []
        for _ in range(digits):
            digest, rem = divmod(digest, 62)
            chars.append(_TAG_ALPHABET[rem])
        coid = (prefix + "".join(chars))[:20]
    return remember(_coid_cache, cache_key, coid, _COID_CACHE)


def _nine_digits(value: int) -> str:
    """Nine base-62 digits of ``value`` (< 62 ** 9), least significant first, in machine-size
    steps: 62 ** 5 fits one CPython int digit, so only the first split is a long division."""
    high, low = divmod(value, _B62_5)
    a, b = divmod(low, 3844)
    c, d = divmod(a, 3844)
    e, f = divmod(high, 3844)
    return _TAG_PAIRS[b] + _TAG_PAIRS[d] + _TAG_ALPHABET[c] + _TAG_PAIRS[f] + _TAG_PAIRS[e]


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
    h = _md5(f"{cause_id}|{salt}|{index}".encode()).hexdigest()  # ``_with_digest`` inlined
    if len(cause_id) == 36 and cause_id[8] == "-" and cause_id[14] == "7":
        prefix = cause_id[:13]
    else:
        digest = _md5(f"{cause_id}|{salt}|{index}|t".encode()).hexdigest()
        prefix = f"{digest[:8]}-{digest[8:12]}"
    return f"{prefix}-7{h[:3]}-{_VARIANT[h[3]]}{h[4:7]}-{h[7:19]}"


def _with_digest(prefix: str, cause_id: str, salt: str, index: int) -> str:
    """``prefix`` (48 time bits, dashed) + version 7 + 74 bits of MD5 + RFC 9562 variant."""
    h = _md5(f"{cause_id}|{salt}|{index}".encode()).hexdigest()
    return f"{prefix}-7{h[:3]}-{_VARIANT[h[3]]}{h[4:7]}-{h[7:19]}"


# Variant bits "10" followed by the low two bits of a hex digit.
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
os.register_at_fork(after_in_child=_forget_uuid7_state)
