"""Control requests through storage: how ``alphapanda kill`` reaches an engine it shares
nothing with but the database (the embedded memory bus cannot be reached from outside).

The CLI persists the new trading state and writes an audit row ``request.<action>``;
the running engine polls for rows newer than its start and applies them through
``TradingControl`` (so the kill switch cancels orders exactly as from the console).
A stopped engine needs no poll: it loads the persisted state when it starts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from engine.clock import Clock, SystemClock
from engine.domain.records import AuditRecord
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.trading_state.control import TradingControl

log = logging.getLogger("alphapanda.trading_state")
REQUEST_PREFIX = "request."
ACTIONS = ("kill", "halt", "resume", "reduce")


class AuditReader(Protocol):
    async def list_audit(self, limit: int = 100) -> list[AuditRecord]: ...


def request_record(action: str, actor: str, ts_ns: int, **detail: object) -> AuditRecord:
    """The audit row the CLI writes to ask the running engine to act."""
    if action not in ACTIONS:
        raise ValueError(f"unknown control action {action!r}")
    return AuditRecord(
        audit_ts=ts_ns, actor=actor, action=REQUEST_PREFIX + action, detail=dict(detail)
    )


class ControlRequestPoller:
    """A supervised service applying control requests found in the audit log."""

    def __init__(
        self,
        *,
        store: AuditReader,
        control: TradingControl,
        broker: str,
        interval_s: float = 0.5,
        clock: Clock | None = None,
    ) -> None:
        self.name = "control-requests"
        self._store = store
        self._control = control
        self._broker = broker
        self._interval = interval_s
        self._clock = clock or SystemClock()
        self._stopping = asyncio.Event()
        self._since = 0
        self.applied = 0

    async def run(self) -> None:
        self._stopping.clear()
        if not self._since:
            self._since = self._clock.now_ns()
        while not self._stopping.is_set():
            try:
                await self.poll_once()
            except Exception:
                log.exception("control request poll failed")
            try:
                async with asyncio.timeout(self._interval):
                    await self._stopping.wait()
            except TimeoutError:
                pass

    async def poll_once(self) -> int:
        rows = await self._store.list_audit(limit=50)
        fresh = sorted(
            (r for r in rows if r.action.startswith(REQUEST_PREFIX) and r.audit_ts > self._since),
            key=lambda r: r.audit_ts,
        )
        for row in fresh:
            self._since = max(self._since, row.audit_ts)
            if row.detail.get("broker", self._broker) != self._broker:
                continue
            if row.detail.get("published"):  # already on the bus: every engine obeys it there
                continue
            await self._apply(row)
        return len(fresh)

    async def _apply(self, row: AuditRecord) -> None:
        action = row.action.removeprefix(REQUEST_PREFIX)
        strategy = row.detail.get("strategy")
        strategy = str(strategy) if strategy else None
        log.warning(
            "control request from the CLI",
            extra={"action": action, "actor": row.actor, "strategy": strategy},
        )
        if action == "kill":
            await self._control.kill(
                flatten=bool(row.detail.get("flatten")),
                operator=row.actor,
                reason="kill switch (cli)",
            )
        elif action == "halt":
            await self._control.halt(strategy=strategy, operator=row.actor)
        elif action == "resume":
            await self._control.resume(strategy=strategy, operator=row.actor)
        elif action == "reduce":
            await self._control.reduce(strategy=strategy, operator=row.actor)
        self.applied += 1

    def stop(self) -> None:
        self._stopping.set()

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name, status=ComponentStatus.RUNNING, processed=self.applied
        )
