"""Control requests through storage: how ``alphapanda kill`` reaches an engine it shares
nothing with but the database (the embedded memory bus cannot be reached from outside).

The CLI persists the new trading state and writes an audit row ``request.<action>``
carrying a ``request_id``; every running engine polls for such rows newer than its start
(an indexed range scan every 50 ms, the same on SQLite and PostgreSQL, so a kill lands
well inside 200 ms) and applies them through the operator's controls
(``TradingOperator``), so the kill switch cancels orders exactly as from the console.
A tightening request is enforced in this process before anything is awaited; once no
order is between execution's last check and its stored outcome, the engine writes
``ack.<action>`` naming the request, which the CLI waits for before it says HALTED. A
stopped engine needs no poll: it loads the persisted state when it starts, and never
acts on requests older than its start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from engine.clock import NS_PER_S, Clock, SystemClock
from engine.domain.records import AuditRecord, OrderRecord
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.periodic import PeriodicService
from engine.trading_state.control import TradingControl
from engine.trading_state.manual import InstrumentLookup
from engine.trading_state.manual_requests import MANUAL_ACTIONS, apply_manual_request
from engine.trading_state.operator import TradingOperator, kill_reason

log = logging.getLogger("alphapanda.trading_state")
REQUEST_PREFIX = "request."
ACK_PREFIX = "ack."
ACTIONS = ("kill", "halt", "resume", "reduce", *MANUAL_ACTIONS)
TIGHTENING = frozenset({"kill", "halt", "reduce"})
POLL_INTERVAL_S = 0.05
# Rows may commit out of timestamp order (two shells at once): look back this far and
# recognise the ones already applied by their request id.
LOOK_BACK_NS = 5 * NS_PER_S
SENDS_IDLE_TIMEOUT_S = 5.0
CLI_ORIGIN = "cli"  # a kill from ``alphapanda kill`` reads "kill switch (cli)"

SendsIdle = Callable[[float], Awaitable[bool]]


class RequestStore(Protocol):
    """The slice of the storage port the poller uses."""

    async def add_audit(self, record: AuditRecord) -> None: ...

    async def list_audit_after(
        self, after_ts: int, action_prefix: str, limit: int = 50
    ) -> list[AuditRecord]: ...

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...


def request_record(action: str, actor: str, ts_ns: int, **detail: object) -> AuditRecord:
    """The audit row the CLI writes to ask the running engine to act."""
    if action not in ACTIONS:
        raise ValueError(f"unknown control action {action!r}")
    return AuditRecord(
        audit_ts=ts_ns, actor=actor, action=REQUEST_PREFIX + action, detail=dict(detail)
    )


def request_key(row: AuditRecord) -> str:
    """The request's id (older rows without one: their time and action)."""
    return str(row.detail.get("request_id") or f"{row.audit_ts}:{row.action}")


class ControlRequestPoller(PeriodicService):
    """A supervised service applying control requests found in the audit log, and
    acknowledging each once it holds in this process."""

    def __init__(
        self,
        *,
        store: RequestStore,
        control: TradingControl,
        broker: str,
        interval_s: float = POLL_INTERVAL_S,
        clock: Clock | None = None,
        sends_idle: SendsIdle | None = None,
        instance: str = "",
        instruments: InstrumentLookup | None = None,
    ) -> None:
        super().__init__("control-requests", interval_s)
        self._store = store
        # the operator's controls, as the console's, with the CLI's kill reason
        self._controls = TradingOperator(
            lambda: control, reason=kill_reason(CLI_ORIGIN), instruments=instruments
        )
        self._broker = broker
        self._clock = clock or SystemClock()
        self._sends_idle = sends_idle
        self._instance = instance
        self._since = 0  # requests at or before this (the engine's start) are history
        self._seen: dict[str, int] = {}  # request key → its time, within the look-back
        self.applied = 0

    round_failed = "control request poll failed"
    failure_log = log

    async def on_start(self) -> None:
        if not self._since:
            self._since = self._clock.now_ns()

    async def run_once(self) -> int:
        return await self.poll_once()

    async def poll_once(self) -> int:
        """Apply the requests not seen yet; returns how many were new."""
        newest = max(self._seen.values(), default=self._since)
        after = max(self._since, newest - LOOK_BACK_NS)
        rows = await self._store.list_audit_after(after, REQUEST_PREFIX, limit=200)
        fresh = [r for r in rows if request_key(r) not in self._seen]
        for row in fresh:
            self._seen[request_key(row)] = row.audit_ts
            if row.detail.get("broker", self._broker) != self._broker:
                continue
            if row.detail.get("published"):  # already on the bus: every engine obeys it there
                continue
            await self._apply(row)
        self._forget_older_than(max(self._seen.values(), default=0) - 2 * LOOK_BACK_NS)
        return len(fresh)

    def _forget_older_than(self, ts_ns: int) -> None:
        for key in [k for k, ts in self._seen.items() if ts < ts_ns]:
            del self._seen[key]

    async def _apply(self, row: AuditRecord) -> None:
        action = row.action.removeprefix(REQUEST_PREFIX)
        if action in MANUAL_ACTIONS:
            await self._apply_manual(action, row)
            return
        strategy = row.detail.get("strategy")
        strategy = str(strategy) if strategy else None
        controls = self._controls
        if action == "kill":  # HALTED here before anything is awaited
            controls.halt_now(operator=row.actor)
        held_ns = self._clock.now_ns()  # a tightening request holds from here on
        log.warning(
            "control request from the CLI",
            extra={"action": action, "actor": row.actor, "strategy": strategy},
        )
        if action == "kill":
            await controls.kill(flatten=bool(row.detail.get("flatten")), operator=row.actor)
        elif action == "halt":
            await controls.halt(strategy=strategy, operator=row.actor)
        elif action == "resume":
            await controls.resume(strategy=strategy, operator=row.actor)
        elif action == "reduce":
            await controls.reduce(strategy=strategy, operator=row.actor)
        self.applied += 1
        await self._acknowledge(row, action, held_ns)

    async def _apply_manual(self, action: str, row: AuditRecord) -> None:
        """An order by hand: only where orders are executed (one process in a cluster), so
        a cancel or modify is sent once; acknowledged with what was sent or why not."""
        if self._sends_idle is None:
            return
        log.warning(
            "manual request from the CLI",
            extra={"action": action, "actor": row.actor, "request_id": request_key(row)},
        )
        outcome = await apply_manual_request(
            action, row, request_id=request_key(row), controls=self._controls, store=self._store
        )
        self.applied += 1
        await self._store.add_audit(
            AuditRecord(
                audit_ts=max(self._clock.now_ns(), row.audit_ts + 1),
                actor=self._instance or "engine",
                action=ACK_PREFIX + action,
                detail={"request_id": request_key(row), "broker": self._broker, **outcome},
            )
        )

    async def _acknowledge(self, row: AuditRecord, action: str, held_ns: int) -> None:
        """Say the request holds here: for a tightening one, once nothing more can leave."""
        sends_stopped = True
        if action in TIGHTENING and self._sends_idle is not None:
            sends_stopped = await self._sends_idle(SENDS_IDLE_TIMEOUT_S)
            if not sends_stopped:
                log.error(
                    "an order sent before the halt is still waiting for the venue's answer",
                    extra={"action": action, "request_id": request_key(row)},
                )
        now = self._clock.now_ns()
        await self._store.add_audit(
            AuditRecord(
                audit_ts=max(now, row.audit_ts + 1),
                actor=self._instance or "engine",
                action=ACK_PREFIX + action,
                detail={
                    "request_id": request_key(row),
                    "broker": self._broker,
                    "executes_orders": self._sends_idle is not None,
                    "sends_stopped": sends_stopped,
                    "held_after_ms": _ms(held_ns - row.audit_ts),
                    "acknowledged_after_ms": _ms(now - row.audit_ts),
                },
            )
        )

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name, status=ComponentStatus.RUNNING, processed=self.applied
        )


def _ms(ns: int) -> float:
    """Milliseconds for the acknowledgement (clocks of two processes: never below zero)."""
    return round(max(0, ns) / 1e6, 1)
