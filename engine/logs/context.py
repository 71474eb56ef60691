"""Correlation ids carried through logs: set while a handler runs, read by a log filter."""

from __future__ import annotations

from contextvars import ContextVar, Token

correlation_id: ContextVar[str | None] = ContextVar("alphapanda_correlation_id", default=None)


def set_correlation_id(value: str | None) -> Token[str | None]:
    return correlation_id.set(value)


def reset_correlation_id(token: Token[str | None]) -> None:
    correlation_id.reset(token)


def current_correlation_id() -> str | None:
    return correlation_id.get()
