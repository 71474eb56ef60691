"""``TradingControl``: the engine API behind the kill key in the console and the CLI.

A change that tightens trading (kill, halt, reduce from active) is applied to the local
``TradingState`` before anything is published, so it is enforced this instant, not after
a bus round-trip. A change that loosens trading (resume) only travels as a command: the
trading-state service applies it once it is persisted and audited.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.bus.base import EventBus
from engine.clock import Clock, SystemClock
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import AnyPayload, ControlCommand, RiskAlert
from engine.events.types import Broker, ControlAction, EventType, TradingMode
from engine.trading_state.alarms import auto_halt_alert, raise_alarm
from engine.trading_state.service import MODE_FOR_ACTION, command_scope
from engine.trading_state.state import GLOBAL_SCOPE, TradingState, is_stricter

SYSTEM_OPERATOR = "system"


class TradingControl:
    """Publishes control commands for one broker, applying the tightening ones locally first."""

    def __init__(
        self,
        bus: EventBus,
        state: TradingState,
        broker: Broker,
        clock: Clock | None = None,
        *,
        run_clock: Clock | None = None,
        operator: str = "operator",
        source: str = "control",
        alarms: object = None,
    ) -> None:
        """``clock`` stamps the commands (the service's staleness check reads it);
        ``run_clock`` (default ``clock``) is the run's time a trader reads on the state
        change and the alarm: the simulated market's clock on SIM. ``alarms``: the store
        that keeps this control's CRITICAL alarms (``add_alert``; None: not kept); the
        pipeline sets it, and ``alarms_here``, where execution runs, so a cluster keeps
        each once."""
        if state.broker is not broker:
            raise ValueError(f"trading state is for {state.broker}, control for {broker}")
        self.bus = bus
        self.state = state
        self.broker = broker
        self.clock: Clock = clock or SystemClock()
        self.run_clock: Clock = run_clock or self.clock
        self.operator = operator
        self.source = source
        self.alarms = alarms
        self.alarms_here: Callable[[], bool] = _always  # False: another process keeps them

    async def kill(
        self, flatten: bool = False, operator: str = "", reason: str = ""
    ) -> ControlCommand:
        """Global HALT now; the service then cancels every order (and squares off if asked)."""
        return await self._send(ControlAction.KILL, None, operator, reason, flatten=flatten)

    def halt_now(self, operator: str = "", reason: str = "") -> bool:
        """The kill switch's synchronous half: global HALTED in this process, this instant.

        For a caller that cannot wait for a task to be scheduled (the console's key
        handler, while the loop is busy with ticks): risk and execution refuse from the
        next order on. Nothing is published, persisted or cancelled here: follow with
        ``kill()``, which does that. True when the state changed (it was not HALTED).
        """
        return self._tighten(
            TradingMode.HALTED,
            GLOBAL_SCOPE,
            operator or self.operator,
            reason,
            self.run_clock.now_ns(),
        )

    async def halt(
        self, strategy: str | None = None, operator: str = "", reason: str = ""
    ) -> ControlCommand:
        return await self._send(ControlAction.HALT, strategy, operator, reason)

    async def resume(
        self, strategy: str | None = None, operator: str = "", reason: str = ""
    ) -> ControlCommand:
        return await self._send(ControlAction.RESUME, strategy, operator, reason)

    async def reduce(
        self, strategy: str | None = None, operator: str = "", reason: str = ""
    ) -> ControlCommand:
        return await self._send(ControlAction.REDUCE, strategy, operator, reason)

    async def auto_halt(
        self, reason: str, rule: str, *, keep: bool | None = None
    ) -> ControlCommand:
        """Halt everything for a system reason (token expired, feed stale) and raise the
        alarm (``keep``: see ``alarm``)."""
        command = await self._send(ControlAction.HALT, None, SYSTEM_OPERATOR, f"{rule}: {reason}")
        now = self.run_clock.now_ns()
        alert = auto_halt_alert(self.broker, rule=rule, reason=reason, ts_ns=now)
        await self.alarm(alert, keep=keep)
        return command

    async def alarm(self, alert: RiskAlert, *, keep: bool | None = None) -> None:
        """Tell the operator (``system.alerts``) and, when CRITICAL, keep it in ``alarms``
        so a restarted console pins it again: where ``alarms_here`` says, unless ``keep``
        (True from the process taking the execution lease, before execution runs)."""
        here = self.alarms_here() if keep is None else keep
        await raise_alarm(
            self.bus,
            alert,
            source=self.source,
            key=self.broker.value,
            store=self.alarms if here else None,
            ts_ns=self.clock.now_ns(),
        )

    async def _send(
        self,
        action: ControlAction,
        strategy: str | None,
        operator: str,
        reason: str,
        *,
        flatten: bool = False,
    ) -> ControlCommand:
        command = ControlCommand(
            action=action,
            strategy=strategy,
            flatten=flatten,
            operator=operator or self.operator,
            reason=reason,
        )
        now = self.clock.now_ns()
        scope = command_scope(command)
        mode = MODE_FOR_ACTION[action]
        self._tighten(mode, scope, command.operator, reason, self.run_clock.now_ns())
        await self._publish(topics.CONTROL_COMMANDS, EventType.CONTROL_COMMAND, command, now)
        return command

    async def _publish(self, topic: str, type_: EventType, payload: AnyPayload, ts_ns: int) -> None:
        """Publish ``payload`` from this control, keyed and tagged by its broker."""
        event = new_event(
            type_,
            payload,
            source=self.source,
            key=self.broker.value,
            broker=self.broker,
            ts_ns=ts_ns,
        )
        await self.bus.publish(topic, event)

    def _tighten(self, mode: TradingMode, scope: str, operator: str, reason: str, now: int) -> bool:
        """Apply ``mode`` locally when it is stricter than the scope's: enforced this instant.

        True when the state changed. Loosening waits for the trading-state service.
        """
        if not is_stricter(mode, self.state.scope_mode(scope)):
            return False
        self.state.set(mode, scope, reason=reason, operator=operator, ts_ns=now)
        return True


def _always() -> bool:
    return True
