"""Supervision: every service runs as a named task and is restarted if it crashes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from engine.events.payloads import ComponentHealth

log = logging.getLogger("alphapanda.processing")


class Service(Protocol):
    """Anything the supervisor runs: a processor, a feed, a poller."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    def health(self) -> ComponentHealth: ...


class Supervisor:
    """Runs services as tasks, restarts crashed ones with backoff, stops them in order."""

    def __init__(
        self,
        services: Sequence[Service],
        restart_delay: float = 0.5,
        max_restart_delay: float = 30.0,
    ) -> None:
        self.services = list(services)
        self.restart_delay = restart_delay
        self.max_restart_delay = max_restart_delay
        self.restarts: dict[str, int] = {s.name: 0 for s in self.services}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def start(self) -> None:
        for service in self.services:
            task = asyncio.create_task(self._keep_running(service), name=f"svc:{service.name}")
            task.add_done_callback(_log_task_exit)
            self._tasks[service.name] = task

    async def _keep_running(self, service: Service) -> None:
        delay = self.restart_delay
        while True:
            try:
                await service.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service crashed; restarting", extra={"service": service.name})
                if self._stopping:
                    return
                self.restarts[service.name] += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_restart_delay)
                continue
            return  # clean exit after stop()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop services in the order given (sources first), each drained before the next."""
        self._stopping = True
        for service in self.services:
            service.stop()
            task = self._tasks.get(service.name)
            if task is None:
                continue
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(task)
            except TimeoutError:
                log.error(
                    "service did not stop in time; cancelling", extra={"service": service.name}
                )
                task.cancel()
            except Exception:  # already logged by the done callback
                pass

    def health(self) -> list[ComponentHealth]:
        return [service.health() for service in self.services]

    @property
    def tasks(self) -> dict[str, asyncio.Task[None]]:
        return dict(self._tasks)


def _log_task_exit(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("task failed", exc_info=exc, extra={"task": task.get_name()})
