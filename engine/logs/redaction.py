"""Secrets never reach a log: registered values and known key patterns are masked.

Applied as a filter on every handler, it rewrites the record itself (message, args,
extras, exception and stack text), so every formatter and every file sees the mask.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any

MASK = "**********"
_SECRET_KEYS = (
    r"access_token|api_secret|request_token|refresh_token|public_token|enctoken|checksum"
    r"|password|passwd|sasl_password|client_secret|secret"
)
# postgresql://user:password@host/db, redis://:password@host
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^/\s:@]*:)([^@\s/]+)(?=@)")
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Authorization: token api_key:access_token  /  Bearer xyz  (header or dict form)
    re.compile(
        r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:token|bearer|basic|enctoken)\s+)"
        r"([^\s\"',}]+)"
    ),
    # "access_token": "x", 'api_secret': 'x', access_token=x, checksum: x
    re.compile(rf"(?i)([\"']?\b(?:{_SECRET_KEYS})\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}}\])]+)"),
    _URL_PASSWORD,
)
_MIN_SECRET_LEN = 4


def mask_url_password(text: str) -> str:
    """``text`` with the password of every URL in it masked (user, host and path kept)."""
    return _URL_PASSWORD.sub(lambda m: m.group(1) + MASK, text)


class SecretRegistry:
    """Secret values known to this process (api secret, access and request tokens)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()

    def register(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET_LEN:
            return
        with self._lock:
            if value not in self._values:
                # Longest first, so a secret containing another is masked whole.
                self._values = tuple(sorted((*self._values, value), key=len, reverse=True))

    def values(self) -> tuple[str, ...]:
        return self._values

    def clear(self) -> None:
        with self._lock:
            self._values = ()


SECRETS = SecretRegistry()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log record from now on (call as soon as a secret is known)."""
    SECRETS.register(value)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with registered secrets and secret-looking key/value pairs masked."""
    for value in SECRETS.values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


def redact_value(value: Any) -> Any:
    """Mask strings inside extras, walking dicts, lists and tuples; other values as text."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_keyed(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked


def _redact_keyed(key: Any, item: Any) -> Any:
    if isinstance(key, str) and re.fullmatch(rf"(?i){_SECRET_KEYS}", key) and item:
        return MASK
    return redact_value(item)


_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra={...}`` fields of a record (non-standard, non-private attributes)."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


class RedactionFilter(logging.Filter):
    """Rewrites each record once so no handler can write a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_alphapanda_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        for key, value in extra_fields(record).items():
            setattr(record, key, redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._alphapanda_redacted = True
        return True
