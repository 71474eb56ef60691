"""``AsyncClosing``: ``async with`` for the storage adapters, which all close with ``aclose()``."""

from __future__ import annotations

from typing import Self


class AsyncClosing:
    """``async with adapter:`` gives the adapter and awaits its ``aclose()`` on the way out,
    whether the block ended or raised."""

    async def aclose(self) -> None:
        """Release what the adapter holds (nothing, unless a subclass holds something)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
