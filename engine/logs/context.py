"""Correlation ids carried through logs: set while a handler runs, read by a log filter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

correlation_id: ContextVar[str | None] = ContextVar("alphapanda_correlation_id", default=None)


def set_correlation_id(value: str | None) -> Token[str | None]:
    return correlation_id.set(value)


def reset_correlation_id(token: Token[str | None]) -> None:
    correlation_id.reset(token)


def current_correlation_id() -> str | None:
    return correlation_id.get()


@contextmanager
def correlation_scope(value: str | None) -> Iterator[None]:
    """Log lines inside the block carry ``value`` as their correlation id."""
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)
