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
        self._stop_event = asyncio.Event()

    def start(self) -> None:
        self._stopping = False
        self._stop_event = asyncio.Event()
        for service in self.services:
            task = asyncio.create_task(self._keep_running(service), name=f"svc:{service.name}")
            task.add_done_callback(_log_task_exit)
            self._tasks[service.name] = task

    async def _keep_running(self, service: Service) -> None:
        """Run ``service`` until it returns after ``stop()``; restart it after every crash.

        A ``CancelledError`` raised by the service while nobody cancelled this task (a
        handler re-raising a cancelled inner future) counts as a crash, not as shutdown.
        """
        delay = self.restart_delay
        while not self._stopping:
            try:
                await service.run()
            except asyncio.CancelledError:
                if self._stopping or _current_cancelling():
                    raise
                log.error(
                    "service raised CancelledError; restarting", extra={"service": service.name}
                )
            except Exception:
                log.exception("service crashed; restarting", extra={"service": service.name})
            else:
                return  # clean exit after stop()
            if self._stopping:
                return
            self.restarts[service.name] += 1
            log.warning(
                "service restart scheduled",
                extra={
                    "service": service.name,
                    "delay_s": delay,
                    "restarts": self.restarts[service.name],
                },
            )
            if await self._wait_stop(delay):
                return
            delay = min(delay * 2, self.max_restart_delay)
            log.info("service restarting", extra={"service": service.name})

    async def _wait_stop(self, seconds: float) -> bool:
        """Sleep before a restart, but wake on ``stop()``. True when stopping."""
        try:
            async with asyncio.timeout(seconds):
                await self._stop_event.wait()
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop services in the order given (sources first), each drained before the next."""
        self._stopping = True
        self._stop_event.set()
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
            except asyncio.CancelledError:
                if _current_cancelling():
                    raise  # this caller is being cancelled
                # the service task itself ended cancelled: nothing left to wait for
            except Exception:  # already logged by the done callback
                pass

    def health(self) -> list[ComponentHealth]:
        return [service.health() for service in self.services]

    @property
    def tasks(self) -> dict[str, asyncio.Task[None]]:
        return dict(self._tasks)


def _current_cancelling() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


def _log_task_exit(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("task failed", exc_info=exc, extra={"task": task.get_name()})
