"""The operator's controls: kill, kill and flatten, halt, resume and reduce, in one place.

Every place a trader steers from (the embedded console, an attached console, the CLI's
requests through storage, the console tests) holds an ``OperatorControl`` and gets the
one implementation, ``TradingOperator`` over ``TradingControl``: the same reasons, the
same order of "enforce here, then publish", the same refusal when nothing is running.
The words a kill leaves on the state and on every order it cancels are built here once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from engine.domain.records import TradingStateRecord
from engine.events.payloads import TradingStateChanged
from engine.events.types import TradingMode
from engine.trading_state.control import TradingControl
from engine.trading_state.state import KILL_SWITCH, TradingState, kill_reason

ControlSource = Callable[[], TradingControl | None]
AfterSend = Callable[[], Awaitable[None]]
BeforeResume = Callable[[str | None], Awaitable[None]]
ApplyChange = Callable[[TradingStateChanged], None]
__all__ = [
    "KILL_SWITCH",
    "NotRunningError",
    "OperatorControl",
    "TradingOperator",
    "kill_reason",
    "show_changes",
]


@runtime_checkable
class OperatorControl(Protocol):
    """What an operator can do to trading. Each call returns once the change holds locally
    (a tightening one is enforced before the call returns, not after a bus trip)."""

    def halt_now(self, operator: str = "") -> bool:
        """The kill switch's synchronous half: global HALTED here before any await.

        For a key handler that cannot wait for a task (risk and execution refuse from the
        next order on); ``kill`` then publishes, persists, audits and cancels. True when
        the state changed; False when already halted or nothing is running.
        """
        ...

    async def kill(self, flatten: bool = False, operator: str = "") -> None:
        """Global HALTED at once; cancel every open order; square off when ``flatten``."""
        ...

    async def halt(self, strategy: str | None = None, operator: str = "") -> None:
        """HALTED for ``strategy`` (every strategy when None): no new orders."""
        ...

    async def resume(self, strategy: str | None = None, operator: str = "") -> None:
        """ACTIVE again, once the trading-state service has persisted and audited it."""
        ...

    async def reduce(self, strategy: str | None = None, operator: str = "") -> None:
        """REDUCING: only orders that shrink a position go out."""
        ...


class NotRunningError(RuntimeError):
    """A control asked of an engine (or console) that has not started or has stopped."""


class TradingOperator:
    """``OperatorControl`` over the ``TradingControl`` of a running engine or console."""

    def __init__(
        self,
        control: ControlSource,
        *,
        reason: str = KILL_SWITCH,
        not_running: str = "the engine is not running",
        after_send: AfterSend | None = None,
        before_resume: BeforeResume | None = None,
    ) -> None:
        """``control`` gives the control while running (None otherwise); ``reason`` is
        what a kill says; ``after_send`` runs after each command is published (a Kafka
        producer's flush); ``before_resume`` may refuse a resume by raising."""
        self._control_source = control
        self.reason = reason
        self._not_running = not_running
        self._after_send = after_send
        self._before_resume = before_resume

    def halt_now(self, operator: str = "") -> bool:
        control = self._control_source()
        if control is None:
            return False
        return control.halt_now(operator=operator, reason=self.reason)

    async def kill(self, flatten: bool = False, operator: str = "") -> None:
        await self._control().kill(flatten=flatten, operator=operator, reason=self.reason)
        await self._sent()

    async def halt(self, strategy: str | None = None, operator: str = "") -> None:
        await self._control().halt(strategy=strategy, operator=operator)
        await self._sent()

    async def resume(self, strategy: str | None = None, operator: str = "") -> None:
        if self._before_resume is not None:
            await self._before_resume(strategy)
        await self._control().resume(strategy=strategy, operator=operator)
        await self._sent()

    async def reduce(self, strategy: str | None = None, operator: str = "") -> None:
        await self._control().reduce(strategy=strategy, operator=operator)
        await self._sent()

    def _control(self) -> TradingControl:
        control = self._control_source()
        if control is None:
            raise NotRunningError(self._not_running)
        return control

    async def _sent(self) -> None:
        if self._after_send is not None:
            await self._after_send()


def show_changes(state: TradingState, apply: ApplyChange) -> None:
    """Every change of ``state`` as the ``TradingStateChanged`` the bus carries, to ``apply``.

    A console's read model takes its trading states this way as well as from the bus (the
    same event, applied by the same method), so a kill pressed here reads HALTED in the
    header the instant ``halt_now`` returns, not after the bus round trip.
    """

    def changed(record: TradingStateRecord, previous: TradingMode) -> None:
        apply(
            TradingStateChanged(
                scope=record.scope,
                mode=record.mode,
                previous=previous,
                reason=record.reason,
                operator=record.operator,
                changed_ts=record.changed_ts,
            )
        )

    state.subscribe(changed)
