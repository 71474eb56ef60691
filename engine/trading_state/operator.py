"""The operator's controls: kill, kill and flatten, halt, resume and reduce, and orders by
hand (place, cancel, modify, exit), in one place.

Every place a trader steers from (the embedded console, an attached console, the CLI's
requests through storage, the console tests) holds an ``OperatorControl`` and gets the
one implementation, ``TradingOperator`` over ``TradingControl``: the same reasons, the
same order of "enforce here, then publish", the same refusal when nothing is running.
The words a kill leaves on the state and on every order it cancels are built here once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from engine.domain.projection import project
from engine.domain.records import Instrument, OrderRecord, TradingStateRecord
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import OrderCommand, TradingStateChanged
from engine.events.types import EventType, TradingMode
from engine.protection.commands import ProtectionLevels, send_protection
from engine.trading_state.control import TradingControl
from engine.trading_state.manual import (
    InstrumentLookup,
    ManualRequestError,
    OrderTicket,
    cancel_command,
    exit_command,
    instrument_key,
    manual_client_order_id,
    manual_signal,
    modification_problem,
    modify_command,
    ticket_problem,
    working_order_problem,
)
from engine.trading_state.state import KILL_SWITCH, TradingState, kill_reason

ControlSource = Callable[[], TradingControl | None]
AfterSend = Callable[[], Awaitable[None]]
BeforeResume = Callable[[str | None], Awaitable[None]]
ApplyChange = Callable[[TradingStateChanged], None]
__all__ = [
    "KILL_SWITCH",
    "NotRunningError",
    "OperatorControl",
    "ProtectionLevels",
    "TradingOperator",
    "kill_reason",
    "show_changes",
]


class NotRunningError(RuntimeError):
    """A control asked of an engine (or console) that has not started or has stopped."""


class TradingOperator:
    """What an operator can do to trading, over the ``TradingControl`` of a running engine
    or console. Each call returns once the change holds locally (a tightening one is
    enforced before the call returns, not after a bus trip)."""

    def __init__(
        self,
        control: ControlSource,
        *,
        reason: str = KILL_SWITCH,
        not_running: str = "the engine is not running",
        after_send: AfterSend | None = None,
        before_resume: BeforeResume | None = None,
        instruments: InstrumentLookup | None = None,
    ) -> None:
        """``control`` gives the control while running (None otherwise); ``reason`` is
        what a kill says; ``after_send`` runs after each command is published (a Kafka
        producer's flush); ``before_resume`` may refuse a resume by raising;
        ``instruments`` finds an instrument by ``EXCHANGE:SYMBOL`` (manual orders, exits)."""
        self._instruments = instruments
        self._control_source = control
        self.reason = reason
        self._not_running = not_running
        self._after_send = after_send
        self._before_resume = before_resume

    def halt_now(self, operator: str = "") -> bool:
        """The kill switch's synchronous half: global HALTED here before any await.

        For a key handler that cannot wait for a task (risk and execution refuse from the
        next order on); ``kill`` then publishes, persists, audits and cancels. True when
        the state changed; False when already halted or nothing is running.
        """
        control = self._control_source()
        if control is None:
            return False
        return control.halt_now(operator=operator, reason=self.reason)

    async def kill(self, flatten: bool = False, operator: str = "") -> None:
        """Global HALTED at once; cancel every open order; square off when ``flatten``."""
        await self._control().kill(flatten=flatten, operator=operator, reason=self.reason)
        await self._sent()

    async def halt(self, strategy: str | None = None, operator: str = "") -> None:
        """HALTED for ``strategy`` (every strategy when None): no new orders."""
        await self._control().halt(strategy=strategy, operator=operator)
        await self._sent()

    async def resume(self, strategy: str | None = None, operator: str = "") -> None:
        """ACTIVE again, once the trading-state service has persisted and audited it."""
        if self._before_resume is not None:
            await self._before_resume(strategy)
        await self._control().resume(strategy=strategy, operator=operator)
        await self._sent()

    async def reduce(self, strategy: str | None = None, operator: str = "") -> None:
        """REDUCING: only orders that shrink a position go out."""
        await self._control().reduce(strategy=strategy, operator=operator)
        await self._sent()

    async def place_order(self, ticket: OrderTicket, *, request_id: str, operator: str = "") -> str:
        """Send ``ticket`` as strategy ``manual`` through risk and execution; returns the
        client order id it gets (the same for the same ``request_id``). Raises
        ``ManualRequestError`` for a ticket that cannot be an order."""
        control = self._control()
        instrument = self._instrument(ticket.symbol)
        problem = ticket_problem(ticket, instrument)
        if problem is not None:
            raise ManualRequestError(problem)
        assert instrument is not None
        signal = manual_signal(
            ticket,
            instrument,
            request_id=request_id,
            operator=operator,
            ts_ns=control.run_clock.now_ns(),
        )
        event = new_event(
            EventType.SIGNAL_RAW,
            signal,
            source="operator",
            key=topics.order_key(control.broker, signal.strategy, signal.instrument_token),
            broker=control.broker,
            ts_ns=control.clock.now_ns(),
        )
        await control.bus.publish(topics.signals_raw(control.broker), event)
        await self._sent()
        return manual_client_order_id(request_id)

    async def cancel_order(
        self, order: OrderRecord | None, client_order_id: str, operator: str = ""
    ) -> None:
        """Cancel one working order (``order`` as stored; None when unknown)."""
        control = self._control()
        problem = working_order_problem(order, client_order_id)
        if problem is not None:
            raise ManualRequestError(problem)
        await self._command(control, cancel_command(control.broker, client_order_id, operator))

    async def modify_order(
        self,
        order: OrderRecord | None,
        client_order_id: str,
        *,
        modifications_done: int,
        quantity: int | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        operator: str = "",
    ) -> None:
        """Modify one working order; refused before sending past Kite's modification cap."""
        control = self._control()
        problem = working_order_problem(order, client_order_id)
        if problem is None:
            assert order is not None
            problem = modification_problem(
                order,
                modifications_done,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
            )
        if problem is not None:
            raise ManualRequestError(problem)
        command = modify_command(
            control.broker,
            client_order_id,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
            operator=operator,
        )
        await self._command(control, command)

    async def exit_positions(
        self,
        *,
        symbol: str | None = None,
        strategy: str | None = None,
        limit_price: Decimal | None = None,
        operator: str = "",
    ) -> None:
        """Square off one instrument, one strategy, or (neither) everything, at market or
        (one instrument) at ``limit_price``; no halt."""
        control = self._control()
        token: int | None = None
        if symbol is not None:
            instrument = self._instrument(symbol)
            if instrument is None:
                raise ManualRequestError(f"unknown instrument {symbol}")
            token = instrument.instrument_token
        command = exit_command(
            control.broker,
            strategy=strategy,
            instrument_token=token,
            operator=operator,
            limit_price=limit_price,
        )
        await self._command(control, command)

    async def protect(
        self,
        *,
        strategy: str,
        instrument_token: int,
        levels: ProtectionLevels | None = None,
        operator: str = "",
    ) -> None:
        """Set (replacing what was set) the stop-loss, target and trailing stop of one
        position, or clear them all (``levels`` None); the engine's protection service
        checks them and keeps watching."""
        control = self._control()
        await send_protection(
            control.bus,
            broker=control.broker,
            strategy=strategy,
            instrument_token=instrument_token,
            operator=operator,
            levels=levels,
            clock=control.clock,
        )
        await self._sent()

    def _instrument(self, symbol: str) -> Instrument | None:
        return None if self._instruments is None else self._instruments(instrument_key(symbol))

    async def _command(self, control: TradingControl, command: OrderCommand) -> None:
        """An order command to the process that owns execution (orders.commands)."""
        event = new_event(
            EventType.ORDER_COMMAND,
            command,
            source="operator",
            key=control.broker.value,
            broker=control.broker,
            ts_ns=control.clock.now_ns(),
        )
        await control.bus.publish(topics.orders_commands(control.broker), event)
        await self._sent()

    def _control(self) -> TradingControl:
        control = self._control_source()
        if control is None:
            raise NotRunningError(self._not_running)
        return control

    async def _sent(self) -> None:
        if self._after_send is not None:
            await self._after_send()


# The name every console and the CLI hold the controls by. There is one implementation
# (tests subclass it), so no Protocol repeats its signatures.
OperatorControl = TradingOperator


def show_changes(state: TradingState, apply: ApplyChange) -> None:
    """Every change of ``state`` as the ``TradingStateChanged`` the bus carries, to ``apply``.

    A console's read model takes its trading states this way as well as from the bus (the
    same event, applied by the same method), so a kill pressed here reads HALTED in the
    header the instant ``halt_now`` returns, not after the bus round trip.
    """

    def changed(record: TradingStateRecord, previous: TradingMode) -> None:
        apply(project(TradingStateChanged, record, previous=previous))

    state.subscribe(changed)
