"""Dedup of redelivered events by id: the port and a bounded in-memory window."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol


class DedupStore(Protocol):
    """Remembers which event ids a consumer group has already handled with effect."""

    async def seen(self, group: str, event_id: str) -> bool: ...

    async def mark(self, group: str, event_id: str) -> None: ...


class MemoryDedupWindow:
    """Bounded LRU of processed ids per group: memory stays flat over a trading day.

    Besides the async port it offers ``seen_now``/``mark_now``: the processor calls these
    directly, saving two awaits per event on the embedded hot path.
    """

    def __init__(self, size: int = 100_000) -> None:
        if size < 1:
            raise ValueError("dedup window size must be positive")
        self.size = size
        self._ids: dict[str, OrderedDict[str, None]] = {}

    def _window(self, group: str) -> OrderedDict[str, None]:
        window = self._ids.get(group)
        if window is None:
            window = self._ids[group] = OrderedDict()
        return window

    def seen_now(self, group: str, event_id: str) -> bool:
        return event_id in self._window(group)

    def mark_now(self, group: str, event_id: str) -> None:
        window = self._window(group)
        window[event_id] = None
        if len(window) > self.size:
            window.popitem(last=False)

    async def seen(self, group: str, event_id: str) -> bool:
        return self.seen_now(group, event_id)

    async def mark(self, group: str, event_id: str) -> None:
        self.mark_now(group, event_id)

    def __len__(self) -> int:
        return sum(len(w) for w in self._ids.values())
