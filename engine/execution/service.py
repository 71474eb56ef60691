"""``ExecutionService``: validated signals become orders, outbox first; ticks become fills.

The path of one order: the validated signal's id gives a deterministic client order id;
the order is written to storage as PENDING before anything is sent (a redelivered
signal finds the id taken and sends nothing); the trading state is checked again just
before the order leaves (a kill switch pressed while the signal was in flight still
stops it); the venue's answer is stored, then announced. Every fill is journaled with
``apply_execution`` before its event is emitted, so positions rebuilt from the fill
journal after a crash match what the portfolio saw.

One concern per module, stacked: ``core`` (state, closing and announcing an order),
``venue_fills``, ``sending``, ``kill_switch``, ``mis_square_off`` and ``restart``; this
module routes each event to them and carries out an operator's order commands.
"""

from __future__ import annotations

from engine.domain.records import OrderRecord
from engine.events.envelope import EventEnvelope
from engine.events.payloads import OrderCommand, OrderUpdate, Signal, Tick
from engine.events.types import EventType, OrderCommandAction, OrderType, Severity
from engine.execution.core import (
    FILL_GAP_RULE,
    FUNDS_RULE,
    MIS_SQUARE_OFF,
    MIS_SQUARE_OFF_RULE,
    SQUARE_OFF,
    ExecutionConfig,
    ExecutionStore,
    PositionKey,
    log,
)
from engine.execution.kill_switch import KillSwitchEffects
from engine.execution.mis_square_off import MisSquareOffs
from engine.execution.order_mapping import venue_update
from engine.execution.restart import RestartRestore
from engine.processing.emitter import Emitter

__all__ = [
    "FILL_GAP_RULE",
    "FUNDS_RULE",
    "MIS_SQUARE_OFF",
    "MIS_SQUARE_OFF_RULE",
    "SQUARE_OFF",
    "ExecutionConfig",
    "ExecutionService",
    "ExecutionStore",
    "PositionKey",
]


class ExecutionService(RestartRestore, KillSwitchEffects, MisSquareOffs):
    """Sends orders for one broker and turns the venue's fills into journaled events."""

    def handle_now(self, envelope: EventEnvelope) -> bool:
        """Match a tick at the venue; done here unless it filled or triggered something.

        The venue's updates are kept under the tick's id for ``handle`` to journal and
        announce, so the venue is not asked twice about one tick.
        """
        data = envelope.data
        if type(data) is not Tick:
            return False
        ts = data.exchange_ts
        if ts >= self.mis_schedule.next_ns or ts >= self.venue_square_off.next_ns or self._held_mis:
            return False  # an MIS cut-off may be due, or one is held: ``handle`` squares off
        updates = self.adapter.on_tick(data)
        if not updates:
            return True
        self._venue_updates[envelope.id] = updates
        return False

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        self._alarms.clear()  # those of a failed try: kept only as its retry raises them
        data = envelope.data
        if type(data) is Tick:
            updates = self._venue_updates.pop(envelope.id, None)
            if updates is None:
                updates = self.adapter.on_tick(data)
            for update in updates:
                await self._apply_venue_update(update, out)
            await self._mis_due(envelope.id, data, out)
        elif isinstance(data, Signal):
            if envelope.type is EventType.SIGNAL_VALIDATED:
                await self._on_signal(envelope, data, out)
        elif isinstance(data, OrderCommand) and data.broker is self.broker:
            await self._on_command(envelope, data, out)
        elif envelope.type is EventType.ORDER_VENUE_UPDATE and isinstance(data, OrderUpdate):
            if data.broker is self.broker:  # a live venue's push or poll, applied in order
                await self._apply_venue_update(venue_update(data), out)
        await self._keep_alarms()

    # -- an operator's order commands -------------------------------------------------
    async def _on_command(
        self, envelope: EventEnvelope, command: OrderCommand, out: Emitter
    ) -> None:
        action = command.action
        if action is OrderCommandAction.CANCEL_ALL:
            await self._cancel_all(command, envelope.ts, out)
        elif action is OrderCommandAction.SQUARE_OFF_ALL:
            await self._square_off(envelope, command, out)
        elif action is OrderCommandAction.CANCEL:
            order = self._working_for(command)
            if order is not None:
                await self._cancel(
                    order,
                    command.reason or "cancelled by operator",
                    out,
                    self._venue_ts(order, envelope.ts),
                )
        elif action is OrderCommandAction.MODIFY:
            order = self._working_for(command)
            if order is not None:
                # In the venue's time, as a cancel: on the simulated market the command's
                # wall-clock stamp is older than the order's, and the console, which keeps
                # an order's newest update, showed the price from before the modify.
                await self._modify(order, command, out, self._venue_ts(order, envelope.ts))

    def _working_for(self, command: OrderCommand) -> OrderRecord | None:
        order = self.working.get(command.client_order_id or "")
        if order is None:
            log.warning(
                "order command for an order that is not working",
                extra={"action": command.action, "client_order_id": command.client_order_id},
            )
        return order

    async def _modify(
        self, order: OrderRecord, command: OrderCommand, out: Emitter, ts: int
    ) -> None:
        ack = await self.adapter.modify(
            order,
            quantity=command.quantity,
            price=command.price,
            trigger_price=command.trigger_price,
        )
        if not ack.accepted:
            message = f"modify of {order.symbol} {order.client_order_id} refused: {ack.reason}"
            self._alert(out, order, Severity.WARNING, message, ts, rule="order_modify")
            return
        if command.quantity is not None:
            order.quantity = command.quantity
        if command.price is not None and order.order_type in (OrderType.LIMIT, OrderType.SL):
            order.price = command.price
        if command.trigger_price is not None:
            order.trigger_price = command.trigger_price
        order.status = ack.status
        order.updated_ts = ts
        await self.store.update_order(order)
        self._emit(out, EventType.ORDER_MODIFIED, order, ts)
