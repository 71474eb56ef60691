"""Bounded memo tables for hot paths.

A caller reads its dict directly (one lookup on a hit) and hands a miss to ``remember``,
which empties the table once it is full: keys (instruments, strategies, prices) repeat,
so the table stays warm, and a trading day's worth of new ones cannot grow it unbounded.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(table: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store ``value`` under ``key`` (emptying ``table`` first if it holds ``limit``) and
    return it."""
    if len(table) >= limit:
        table.clear()
    table[key] = value
    return value
