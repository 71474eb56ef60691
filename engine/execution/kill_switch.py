"""The kill switch's effect on orders: cancel every working order, square off positions.

The trading-state service turns a kill into ``CANCEL_ALL`` (and, with flatten,
``SQUARE_OFF_ALL``) order commands for the process that owns execution; this is where
they act. Square-off orders only reduce, so they go out while HALTED; their client order
ids derive from the command, so a redelivered command sends nothing new.
"""

from __future__ import annotations

from engine.domain.records import OrderRecord
from engine.events.envelope import EventEnvelope
from engine.events.payloads import OrderCommand
from engine.events.types import OrderStatus
from engine.execution.core import SQUARE_OFF, log
from engine.execution.reports import PlaceAck
from engine.execution.sending import OrderSending
from engine.processing.emitter import Emitter
from engine.trading_state.state import KILL_SWITCH


class KillSwitchEffects(OrderSending):
    """Cancels and flattens on the kill switch's order commands."""

    async def _cancel_all(self, command: OrderCommand, command_ts: int, out: Emitter) -> None:
        """Cancel every working order (of ``command.strategy`` when one is named)."""
        orders = [
            order
            for order in self.working.values()
            if command.strategy is None or order.strategy == command.strategy
        ]
        if not orders:
            return
        acks = await self.adapter.cancel_all(orders)
        reason = command.reason or KILL_SWITCH
        for order, ack in zip(orders, acks, strict=True):
            if self._cancel_refused(order, ack):
                continue
            ts = self._venue_ts(order, command_ts)
            await self._close(order, OrderStatus.CANCELLED, reason, out, ts)

    async def _cancel(self, order: OrderRecord, reason: str, out: Emitter, ts: int) -> None:
        """Cancel one order at the venue; stored CANCELLED once the venue agrees."""
        ack = await self.adapter.cancel(order)
        if self._cancel_refused(order, ack):
            return
        await self._close(order, OrderStatus.CANCELLED, reason, out, ts)

    def _cancel_refused(self, order: OrderRecord, ack: PlaceAck) -> bool:
        if ack.accepted:
            return False
        log.warning(
            "cancel refused by the venue",
            extra={"client_order_id": order.client_order_id, "reason": ack.reason},
        )
        return True

    def _venue_ts(self, order: OrderRecord, command_ts: int) -> int:
        """When an operator's cancel happened in the venue's time: on the paper venue its
        newest tick of the order's instrument (the simulated market's clock, not the wall
        clock the command was stamped in), else the command's own time."""
        venue_ts = self.adapter.event_time_ns(order.instrument_token)
        return command_ts if venue_ts is None else max(venue_ts, order.created_ts)

    async def _square_off(
        self, envelope: EventEnvelope, command: OrderCommand, out: Emitter
    ) -> None:
        """Flatten every position with MARKET orders; reductions may go out while HALTED."""
        for (strategy, token), net in list(self.net_positions.items()):
            if net == 0 or (command.strategy is not None and strategy != command.strategy):
                continue
            if command.instrument_token is not None and token != command.instrument_token:
                continue  # an operator's exit of one position
            await self._flatten(
                (strategy, token),
                net,
                cause=envelope.id,
                signal_id=f"{SQUARE_OFF}{envelope.id}",
                reason=command.reason or "square off",
                ts=envelope.ts,
                out=out,
                limit_price=command.price,
            )
