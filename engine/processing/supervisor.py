"""Supervision: every service runs as a named task and is restarted if it crashes.

A service that crashes again and again is not "running": after ``max_restarts``
crashes in a row (a run that lasted ``healthy_after_s`` resets the count) the
supervisor records a ``ServiceFailure`` that ``wait_failed`` returns, so the headless
engine can stop and exit non-zero with the cause. It keeps restarting meanwhile.

A failure that means the cluster cannot be reached (``is_outage``, the bus's classifier)
is an outage, not a crash: it is waited out with its own back-off and never counts
toward ``max_restarts`` (see ``engine.processing.outage``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.events.payloads import ComponentHealth
from engine.processing.outage import Outages, never_outage
from engine.waiting import set_within

log = logging.getLogger("alphapanda.processing")


class Service(Protocol):
    """Anything the supervisor runs: a processor, a feed, a poller."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...

    def health(self) -> ComponentHealth: ...


@dataclass(frozen=True)
class ServiceFailure:
    """A service that kept crashing: its name, crashes in a row, the last error in words."""

    service: str
    crashes: int
    cause: str

    def describe(self) -> str:
        return f"service {self.service} crashed {self.crashes} times in a row: {self.cause}"


class Supervisor:
    """Runs services as tasks, restarts crashed ones with backoff, stops them in order.

    ``restarts`` counts restarts after crashes; ``outages.restarts`` those after failures
    for want of the cluster.
    """

    RESTART_DELAY = 0.5
    MAX_RESTART_DELAY = 30.0
    MAX_RESTARTS = 5  # crashes in a row before the supervisor reports a failure
    HEALTHY_AFTER_S = 60.0  # a run this long was not part of a crash loop

    def __init__(
        self,
        services: Sequence[Service],
        restart_delay: float | None = None,
        max_restart_delay: float | None = None,
        max_restarts: int | None = None,
        healthy_after_s: float | None = None,
        is_outage: Callable[[BaseException], bool] = never_outage,
        outages: Outages | None = None,
    ) -> None:
        self.services = list(services)
        self.restart_delay = self.RESTART_DELAY if restart_delay is None else restart_delay
        self.max_restart_delay = (
            self.MAX_RESTART_DELAY if max_restart_delay is None else max_restart_delay
        )
        self.max_restarts = self.MAX_RESTARTS if max_restarts is None else max_restarts
        self.healthy_after_s = self.HEALTHY_AFTER_S if healthy_after_s is None else healthy_after_s
        self.restarts: dict[str, int] = {s.name: 0 for s in self.services}
        self.is_outage = is_outage
        self.outages = outages if outages is not None else Outages(self.restart_delay)
        self.failure: ServiceFailure | None = None
        self._failed = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._stop_event = asyncio.Event()

    async def wait_failed(self) -> ServiceFailure:
        """Return once some service has crashed ``max_restarts`` times in a row."""
        await self._failed.wait()
        assert self.failure is not None
        return self.failure

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
        in_a_row = 0
        while not self._stopping:
            began = time.monotonic()
            watcher = self._watch_recovery(service)
            unreachable: str | None = None  # the failure in words, when it was an outage
            try:
                await service.run()
            except asyncio.CancelledError as exc:
                if self._stopping or _current_cancelling():
                    raise
                if self.is_outage(exc):
                    # aiokafka's consumer.stop() re-raised a fetch task's cancellation while
                    # the service was closing after the cluster went away: still an outage
                    unreachable = _in_words(exc.__context__ or exc)
                else:
                    log.error(
                        "service raised CancelledError; restarting",
                        extra={"service": service.name},
                    )
                cause = "CancelledError raised inside the service"
            except Exception as exc:
                cause = _in_words(exc)
                if self.is_outage(exc):
                    unreachable = cause  # no traceback: one line per back-off step
                else:
                    log.exception("service crashed; restarting", extra={"service": service.name})
            else:
                return  # clean exit after stop()
            finally:
                if watcher is not None:
                    watcher.cancel()
            if self._stopping:
                return
            if unreachable is not None:  # an outage: waited out, never counted as a crash
                if await self._wait_stop(self.outages.failed(service.name, unreachable)):
                    return
                continue
            if time.monotonic() - began >= self.healthy_after_s:
                in_a_row, delay = 0, self.restart_delay
            in_a_row += 1
            if in_a_row > self.max_restarts:
                self._report_failure(ServiceFailure(service.name, in_a_row, cause))
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

    def _watch_recovery(self, service: Service) -> asyncio.Task[None] | None:
        """A run after an outage: a task that ends the outage once the service is back."""
        if self.outages.since(service.name) is None:
            return None
        return asyncio.create_task(
            self.outages.watch_recovery(service.name, service.health),
            name=f"svc:{service.name}:recovery",
        )

    def _report_failure(self, failure: ServiceFailure) -> None:
        if self.failure is None:
            self.failure = failure
            log.critical(
                "service is crash-looping",
                extra={
                    "service": failure.service,
                    "crashes": failure.crashes,
                    "error": failure.cause,
                },
            )
        self._failed.set()

    async def _wait_stop(self, seconds: float) -> bool:
        """Sleep before a restart, but wake on ``stop()``. True when stopping."""
        return await set_within(self._stop_event, seconds)

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
        """Each service's own health; DEGRADED while it waits for an unreachable cluster."""
        return [self.outages.reported(service.health()) for service in self.services]

    @property
    def tasks(self) -> dict[str, asyncio.Task[None]]:
        return dict(self._tasks)


def _in_words(exc: BaseException) -> str:
    """``Type: first line of the message`` (a SQL error's statement is left out)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _current_cancelling() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


def _log_task_exit(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("task failed", exc_info=exc, extra={"task": task.get_name()})
