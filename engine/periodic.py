"""``PeriodicService``: the one run/stop/wake loop for services that work in rounds.

A health report every second, a poll of the CLI's control requests, a read of the
account's funds: each does one round, then waits ``interval_s`` or until woken or
stopped. Written once here, so every such service stops at once (never after a full
interval), can be restarted by the supervisor, and treats a failing round the same way.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

from engine.waiting import set_within

log = logging.getLogger("alphapanda.periodic")


class PeriodicService(ABC):
    """Calls ``run_once`` every ``interval_s`` seconds from ``run()`` until ``stop()``.

    ``round_failed``: the message logged (with the traceback) when a round raises, and
    the loop goes on to the next round; None lets the error end ``run()``, for the
    supervisor to restart it.
    """

    round_failed: str | None = None
    failure_log: logging.Logger = log  # a subclass logs under its own module's name

    def __init__(self, name: str, interval_s: float) -> None:
        self.name = name
        self.interval_s = interval_s
        self._stopping = False
        self._nudge = asyncio.Event()  # set by ``stop`` and ``wake``: the wait ends

    @abstractmethod
    async def run_once(self) -> object:
        """One round of work."""

    async def on_start(self) -> None:
        """Before the first round of each ``run()``."""

    def survive(self, exc: Exception) -> bool:
        """A round raised ``exc``: log it and go on (True), or end ``run()`` (False).

        By default: logged with its traceback as ``round_failed`` when the service names
        that message, else left to end ``run()``.
        """
        if self.round_failed is None:
            return False
        self.failure_log.exception(self.round_failed, extra={"service": self.name})
        return True

    async def run(self) -> None:
        """Rounds until ``stop()``; a later ``run()`` starts again (a stop is not sticky)."""
        self._stopping = False
        self._nudge.clear()  # what woke or stopped an earlier run is done
        await self.on_start()
        while not self._stopping:
            try:
                await self.run_once()
            except Exception as exc:
                if not self.survive(exc):
                    raise
            await self._wait()

    def stop(self) -> None:
        """End ``run()`` now: a wait in progress is cut short."""
        self._stopping = True
        self._nudge.set()

    def wake(self) -> None:
        """Start the next round now instead of at the end of the interval."""
        self._nudge.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def _wait(self) -> None:
        if self._stopping:
            return
        await set_within(self._nudge, self.interval_s)
        self._nudge.clear()
