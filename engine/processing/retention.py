"""Keeps the persisted dedup window bounded: old processed-event ids are pruned on a schedule.

Every effect records the id of the event that caused it (``processed_events``), so a
redelivery is recognised. Nothing is redelivered after a day, but without pruning the
table grows by one row per effect for as long as the engine runs. This service deletes
rows older than the retention in its own task and transaction, never on the hot path.
"""

from __future__ import annotations

import logging
from typing import Protocol

from engine.clock import NS_PER_S, Clock, SystemClock
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.periodic import PeriodicService

log = logging.getLogger("alphapanda.processing")

DEFAULT_RETENTION_S = 86_400  # a day: far beyond any redelivery after a crash
MAX_PRUNE_INTERVAL_S = 3_600.0  # a long retention is still pruned every hour


class Prunable(Protocol):
    """The part of the store this service uses (``ProcessedEventRepository``)."""

    async def newest_processed_ts(self) -> int | None: ...

    async def prune(self, keep_after_ts: int) -> int: ...


class ProcessedIdsPruner(PeriodicService):
    """A supervised service deleting processed-event ids older than ``retention_s``.

    Runs once at start, then every ``interval_s`` (default: a quarter of the retention,
    at most an hour). Age is measured from the newest id recorded, not from now: after a
    weekend's downtime the events a Kafka consumer redelivers (handled, not committed) are
    the last ones before the stop, and their ids must still be there to catch them.
    """

    def __init__(
        self,
        *,
        store: Prunable,
        retention_s: float = DEFAULT_RETENTION_S,
        interval_s: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        if retention_s <= 0:
            raise ValueError("retention_s must be positive")
        super().__init__(
            "processed-pruner", interval_s or min(retention_s / 4, MAX_PRUNE_INTERVAL_S)
        )
        self._store = store
        self.retention_s = retention_s
        self._clock = clock or SystemClock()
        self.pruned = 0

    async def prune_once(self) -> int:
        """Delete ids older than the retention; returns how many went."""
        now = self._clock.now_ns()
        newest = await self._store.newest_processed_ts()
        reference = now if newest is None else min(now, newest)
        keep_after = reference - int(self.retention_s * NS_PER_S)
        removed = await self._store.prune(keep_after)
        self.pruned += removed
        if removed:
            log.info("pruned processed event ids", extra={"rows": removed})
        return removed

    # a busy database now is no reason to stop pruning later
    round_failed = "pruning processed event ids failed"
    failure_log = log

    async def run_once(self) -> int:
        return await self.prune_once()

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name, status=ComponentStatus.RUNNING, processed=self.pruned
        )
