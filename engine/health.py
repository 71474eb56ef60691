"""Health reporting: one periodic ``HealthReport`` of every service, the store and the bus.

Consoles (embedded or attached) read it from ``system.health``; the engine never
holds a widget. Probes are plain callables so each port reports in its own terms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from engine.bus.base import EventBus
from engine.clock import Clock, SystemClock
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ComponentHealth, HealthReport
from engine.events.types import ComponentStatus, EventType
from engine.periodic import PeriodicService

log = logging.getLogger("alphapanda.health")
Probe = Callable[[], ComponentHealth | Awaitable[ComponentHealth]]


class HealthReporter(PeriodicService):
    """A supervised service publishing ``HealthReport`` every ``interval_s`` seconds."""

    def __init__(
        self,
        *,
        bus: EventBus,
        reporter: str,
        sources: Callable[[], Sequence[ComponentHealth]],
        probes: Sequence[Probe] = (),
        interval_s: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__("health", interval_s)
        self._bus = bus
        self._reporter = reporter
        self._sources = sources
        self._probes = list(probes)
        self._clock = clock or SystemClock()
        self.reports = 0
        self.last: HealthReport | None = None

    async def collect(self) -> HealthReport:
        components = [c for c in self._sources() if c.name != self.name]
        for probe in self._probes:
            try:
                result = probe()
                if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                    result = await result
                components.append(result)
            except Exception as exc:  # a failing probe is itself a health fact
                components.append(
                    ComponentHealth(
                        name=getattr(probe, "__name__", "probe"),
                        status=ComponentStatus.DOWN,
                        detail=str(exc)[:200],
                    )
                )
        report = HealthReport(
            reporter=self._reporter, components=tuple(components), report_ts=self._clock.now_ns()
        )
        self.last = report
        return report

    async def run_once(self) -> None:
        """Collect and publish one report (a failure ends ``run()``: the supervisor restarts it)."""
        report = await self.collect()
        envelope = new_event(
            EventType.HEALTH,
            report,
            source=self.name,
            key=self._reporter,
            ts_ns=report.report_ts,
        )
        await self._bus.publish(topics.SYSTEM_HEALTH, envelope)
        self.reports += 1

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name, status=ComponentStatus.RUNNING, processed=self.reports
        )
