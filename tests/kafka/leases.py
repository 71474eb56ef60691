"""The singleton service the lease tests run under ``LeasedService``."""

from __future__ import annotations

import asyncio

from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus


class Worker:
    """One stand-in service for every lease test: journals its runs, can be told to crash."""

    def __init__(self, name: str, journal: list[str] | None = None) -> None:
        self.name = name
        self.journal = journal if journal is not None else []
        self.runs = 0
        self.active = False
        self.crash = False
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        self._stop.clear()
        self.journal.append(f"{self.name}:run")
        self.active = True
        try:
            while not self._stop.is_set():
                if self.crash:
                    raise RuntimeError("boom")
                await asyncio.sleep(0.02)
        finally:
            self.active = False

    def stop(self) -> None:
        self._stop.set()

    def health(self) -> ComponentHealth:
        return ComponentHealth(name=self.name, status=ComponentStatus.RUNNING)
