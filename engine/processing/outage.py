"""Outages: a service that failed because the cluster cannot be reached did not crash.

The supervisor asks the bus (``EventBus.is_outage``) whether a failure means "the
cluster is unreachable". Such a failure is waited out: it never counts toward the crash
limit (a broker down for a minute must not stop a trader's engine), the service is
restarted with its own back-off, its health row says DEGRADED with "broker unreachable
since HH:MM:SS", and each back-off step is one log line, not a traceback. The outage
ends when the restarted service has reported itself running for ``CONFIRM_S`` (a
processor does so only once it has joined its group), or, for one that never reports
RUNNING (a standby waiting for its lease), once a run has lasted ``SETTLE_S``; a failure
soon after carries on the same outage (its start and back-off). Nothing is lost
meanwhile: inputs are committed only after their outputs were acknowledged, so a
restarted service picks up where the last commit left it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import msgspec

from engine.clock import IST
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus

log = logging.getLogger("alphapanda.processing")

# Back-off between attempts while the cluster is unreachable: doubling from the
# supervisor's first restart delay up to this. Lower than a crash's 30 s cap because the
# trader wants the engine back within seconds of the broker, and an attempt is cheap (one
# connection per service); higher would only save log lines (one per step and service).
MAX_DELAY_S = 15.0
# A restarted run that lasts this long without failing ends the outage even if the
# service never reports RUNNING (a standby waiting for its lease reports STOPPED).
SETTLE_S = 30.0
# Reporting RUNNING this long ends the outage. Some services report RUNNING whatever
# they do; a restart that fails again within this is still the same outage.
CONFIRM_S = 1.0
_POLL_S = 0.2  # how often a restarted service's own health is read for its recovery
_RECOVERED = frozenset({ComponentStatus.RUNNING, ComponentStatus.PAUSED})


def never_outage(_exc: BaseException) -> bool:
    """The classifier of a bus that lives in this process: it cannot become unreachable."""
    return False


@dataclass(slots=True)
class _Outage:
    since: float  # wall clock (epoch seconds) of the first failure
    delay: float  # the next back-off
    attempts: int = 0  # restarts since the outage began


class Outages:
    """Which services are waiting for the cluster, since when, and their back-off."""

    def __init__(
        self,
        first_delay: float,
        max_delay: float = MAX_DELAY_S,
        settle_s: float = SETTLE_S,
        confirm_s: float = CONFIRM_S,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.settle_s = settle_s
        self.confirm_s = confirm_s
        self._wall = wall
        self._open: dict[str, _Outage] = {}
        # Ended outages and when (monotonic): a failure soon after carries the same one on.
        self._ended: dict[str, tuple[_Outage, float]] = {}
        self.restarts: dict[str, int] = {}  # restarts for outages, per service (all time)

    def since(self, service: str) -> float | None:
        outage = self._open.get(service)
        return outage.since if outage is not None else None

    def failed(self, service: str, cause: str) -> float:
        """Record a failure for want of the cluster; returns the delay before the restart."""
        outage = self._open.get(service)
        if outage is None:
            outage = self._resumed(service) or _Outage(self._wall(), self.first_delay)
            self._open[service] = outage
        delay = outage.delay
        outage.delay = min(delay * 2, self.max_delay)
        outage.attempts += 1
        self.restarts[service] = self.restarts.get(service, 0) + 1
        log.warning(
            "%s: broker unreachable since %s; retrying in %.1f s (attempt %d): %s",
            service,
            _clock_time(outage.since),
            delay,
            outage.attempts,
            cause,
            extra={"service": service, "delay_s": delay, "attempt": outage.attempts},
        )
        return delay

    def _resumed(self, service: str) -> _Outage | None:
        """The outage that ended less than ``settle_s`` ago: this failure carries it on."""
        ended = self._ended.pop(service, None)
        if ended is None or time.monotonic() - ended[1] >= self.settle_s:
            return None
        return ended[0]

    def end(self, service: str) -> None:
        outage = self._open.pop(service, None)
        if outage is None:
            return
        self._ended[service] = (outage, time.monotonic())
        log.warning(
            "%s: broker reachable again; running (unreachable since %s, %.0f s)",
            service,
            _clock_time(outage.since),
            self._wall() - outage.since,
            extra={"service": service, "attempts": outage.attempts},
        )

    def reported(self, own: ComponentHealth) -> ComponentHealth:
        """The service's own health, or DEGRADED with the outage's start while it lasts."""
        since = self.since(own.name)
        if since is None:
            return own
        return msgspec.structs.replace(
            own,
            status=ComponentStatus.DEGRADED,
            detail=f"broker unreachable since {_clock_time(since)}",
        )

    async def watch_recovery(self, name: str, health: Callable[[], ComponentHealth]) -> None:
        """While a restarted service runs: end its outage once it has reported itself
        running for ``confirm_s`` (or its run has lasted ``settle_s``). Cancelled when the
        run ends."""
        loop = asyncio.get_running_loop()
        settled = loop.time() + self.settle_s
        running_since: float | None = None
        while name in self._open:
            now = loop.time()
            if health().status not in _RECOVERED:
                running_since = None
            elif running_since is None:
                running_since = now
            if now >= settled or (
                running_since is not None and now - running_since >= self.confirm_s
            ):
                self.end(name)
                return
            await asyncio.sleep(_POLL_S)


def _clock_time(epoch_s: float) -> str:
    """``HH:MM:SS`` in India time, as the console shows every other time."""
    return datetime.fromtimestamp(epoch_s, IST).strftime("%H:%M:%S")
