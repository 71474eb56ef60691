"""The trading-state service: every engine process obeys every control command.

Each process consumes ``control.commands`` in its own consumer group (``instance_id``),
applies the command to its in-process ``TradingState``, persists it (so a killed engine
restarts halted), writes an audit record naming the operator and announces the change.
Outputs get ids derived from the command alone, so the copies that several processes
emit collapse into one under downstream dedup; only the process that owns execution
(``acts_on_orders``) sends the kill switch's cancel / square-off commands at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from engine.bus.base import EventBus
from engine.clock import NS_PER_S, Clock
from engine.domain.projection import project
from engine.domain.records import AuditRecord, RiskAlertRecord, TradingStateRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import ControlCommand, OrderCommand, RiskAlert, TradingStateChanged
from engine.events.types import (
    Broker,
    ControlAction,
    EventType,
    OrderCommandAction,
    Severity,
    TradingMode,
)
from engine.processing.dedup import DedupStore
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.trading_state.state import GLOBAL_SCOPE, KILL_SWITCH, TradingState

log = logging.getLogger("alphapanda.trading_state")

MODE_FOR_ACTION: dict[ControlAction, TradingMode] = {
    ControlAction.HALT: TradingMode.HALTED,
    ControlAction.KILL: TradingMode.HALTED,
    ControlAction.REDUCE: TradingMode.REDUCING,
    ControlAction.RESUME: TradingMode.ACTIVE,
}


class TradingStateStore(Protocol):
    """The slice of the storage port this service uses."""

    async def save_trading_state(self, state: TradingStateRecord) -> None: ...

    async def load_trading_states(self, broker: Broker) -> list[TradingStateRecord]: ...

    async def add_audit(self, record: AuditRecord) -> None: ...


@runtime_checkable
class AlarmStore(Protocol):
    """Where the kill switch's alarm is kept, so a restarted console pins it again."""

    async def add_alert(self, alert: RiskAlertRecord) -> None: ...


def command_scope(command: ControlCommand) -> str:
    """Kill is always global; otherwise the strategy named, or global when none is."""
    if command.action is ControlAction.KILL or command.strategy is None:
        return GLOBAL_SCOPE
    return command.strategy


class TradingStateService(StreamProcessor):
    """Applies, persists, audits and announces operator and automatic control commands."""

    def __init__(
        self,
        *,
        bus: EventBus,
        state: TradingState,
        instance_id: str,
        store: TradingStateStore | None = None,
        acts_on_orders: bool = True,
        max_command_age_s: float | None = 300.0,
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
        run_clock: Clock | None = None,
    ) -> None:
        """``clock`` (wall) judges a command's age; ``run_clock`` (default ``clock``) is
        the run's time stamped on what a trader reads: the state record, the audit row,
        the change and the kill switch's alarm (on SIM, the simulated market's clock)."""
        if not instance_id:
            raise ValueError("instance_id must be unique per process and not empty")
        broker = state.broker
        super().__init__(
            name=f"trading-state.{broker.value}",
            bus=bus,
            input_topics=[topics.CONTROL_COMMANDS],
            group=f"trading-state.{broker.value}.{instance_id}",
            config=config,
            dedup=dedup,
            clock=clock,
        )
        self.broker = broker
        self.state = state
        self.instance_id = instance_id
        self.store = store
        self.acts_on_orders = acts_on_orders
        self._max_age_ns = None if max_command_age_s is None else int(max_command_age_s * NS_PER_S)
        self._started_ns = 0
        self.run_clock: Clock = run_clock or self.clock
        # Whether the kill switch's alarm is stored here: the pipeline says where execution
        # runs, so a cluster whose every process obeys the kill stores it once.
        self.alarms_here: Callable[[], bool] = lambda: True

    async def on_start(self) -> None:
        self._started_ns = self.clock.now_ns()
        if self.store is not None:
            records = await self.store.load_trading_states(self.broker)
            self.state.load(records)
            halted = [r.scope for r in records if r.mode is not TradingMode.ACTIVE]
            if halted:
                log.warning("restored trading state", extra={"scopes": self.state.scopes()})

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        command = envelope.data
        if not isinstance(command, ControlCommand):
            return
        if envelope.broker is not None and envelope.broker is not self.broker:
            return
        if self._is_stale(envelope):
            log.warning(
                "ignoring stale control command",
                extra={"event_id": envelope.id, "action": command.action.value},
            )
            return
        once = Emitter(self.name, envelope, envelope.ts)  # same ids in every process
        at = self.run_clock.now_ns()
        await self._apply(envelope, command, once, at)
        if command.action is ControlAction.KILL and self.acts_on_orders:
            alarm = self._pull_kill_switch(command, once, at)
            if isinstance(self.store, AlarmStore) and self.alarms_here():  # one process
                await self.store.add_alert(project(RiskAlertRecord, alarm))
        out.outbox.extend(once.outbox)

    def _is_stale(self, envelope: EventEnvelope) -> bool:
        """A command older than the age limit at start is history (e.g. a new Kafka group)."""
        return self._max_age_ns is not None and envelope.ts < self._started_ns - self._max_age_ns

    def _condition_holds(self, scope: str, mode: TradingMode, command: ControlCommand) -> bool:
        """A conditional command applies while the scope still has the reason it names, or
        when its sender already applied it here (the same mode, reason and operator)."""
        if command.if_reason is None:
            return True
        record = self.state.record(scope)
        if record is None:
            return False
        if record.reason == command.if_reason:
            return True
        return (record.mode, record.reason, record.operator) == (
            mode,
            command.reason,
            command.operator,
        )

    async def _apply(
        self, envelope: EventEnvelope, command: ControlCommand, out: Emitter, at: int
    ) -> None:
        scope = command_scope(command)
        mode = MODE_FOR_ACTION[command.action]
        if not self._condition_holds(scope, mode, command):
            log.info(
                "conditional control command not applied: the state changed since",
                extra={"event_id": envelope.id, "action": command.action.value, "scope": scope},
            )
            return
        current = self.state.scope_mode(scope)
        previous = current if current is not mode else self.state.previous_mode(scope)
        record = self.state.set(
            mode, scope, reason=command.reason, operator=command.operator, ts_ns=at
        )
        if self.store is not None:
            await self.store.save_trading_state(record)
            await self.store.add_audit(
                AuditRecord(
                    audit_ts=at,
                    actor=command.operator or "unknown",
                    action=f"trading.{command.action.value}",
                    detail={
                        "broker": self.broker.value,
                        "scope": scope,
                        "mode": mode.value,
                        "previous": previous.value,
                        "reason": command.reason,
                        "flatten": command.flatten,
                        "event_id": envelope.id,
                    },
                )
            )
        changed = project(TradingStateChanged, record, previous=previous)
        key = f"{self.broker.value}:{scope}"
        out.emit(
            topics.TRADING_STATE,
            EventType.TRADING_STATE_CHANGED,
            changed,
            key=key,
            broker=self.broker,
        )
        log.warning(
            "trading state changed: %s %s → %s by %s%s",
            scope,
            previous.value,
            mode.value,
            command.operator or "unknown",
            f" ({command.reason})" if command.reason else "",
            extra={"scope": scope, "mode": mode.value, "operator": command.operator},
        )

    def _pull_kill_switch(self, command: ControlCommand, out: Emitter, at: int) -> RiskAlert:
        """Cancel every working order, flatten if asked, and raise the alarm (returned)."""
        broker = self.broker
        why = command.reason or KILL_SWITCH  # built once by the sender (``kill_reason``)
        actions = [OrderCommandAction.CANCEL_ALL]
        if command.flatten:
            actions.append(OrderCommandAction.SQUARE_OFF_ALL)
        for action in actions:
            out.emit(
                topics.orders_commands(broker),
                EventType.ORDER_COMMAND,
                OrderCommand(action=action, broker=broker, reason=why),
                key=broker.value,
                broker=broker,
            )
        who = command.operator or "unknown operator"
        effect = "cancelling all orders"
        if command.flatten:
            effect += " and squaring off all positions"
        detail = f": {command.reason}" if command.reason else ""
        alert = RiskAlert(
            severity=Severity.CRITICAL,
            rule="kill_switch",
            message=f"Kill switch pressed by {who} on {broker.value}{detail}; "
            f"trading HALTED, {effect}",
            broker=broker,
            alert_ts=at,
        )
        out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=broker.value, broker=broker)
        return alert
