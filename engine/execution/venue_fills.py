"""Execution's venue updates: a fill is journalled once, a status only moves forward.

Paper updates come from the venue's tick matching, live ones from Zerodha's order updates
(``ORDER_VENUE_UPDATE``); both arrive here as ``VenueUpdate`` and go through
``engine.execution.lifecycle``. A gap between the venue's filled quantity and the journal
is told to the operator once per gap, and again when it closes.
"""

from __future__ import annotations

from engine.domain.records import OrderRecord
from engine.events.payloads import Fill
from engine.events.types import EventType, Severity
from engine.execution import lifecycle
from engine.execution.core import EVENT_FOR_STATUS, ExecutionCore, final_level, log
from engine.execution.order_mapping import fill_record
from engine.execution.reports import VenueUpdate
from engine.logs.order_story import FILL, FINAL, order_story
from engine.processing.emitter import Emitter


class VenueFills(ExecutionCore):
    """Applies what the venue reports about the orders it holds."""

    async def _apply_venue_update(self, update: VenueUpdate, out: Emitter) -> None:
        """Apply a venue's update: its trade once, its status only forward (``lifecycle``).

        A trade for an order that is no longer working (cancelled after a partial fill,
        or its trades lagged behind the final status) is still journalled and applied.
        """
        order = self.working.get(update.client_order_id)
        if order is None:
            order = await self._finished_order(update)
            if order is None:
                return
        elif lifecycle.moves_back(order.status, update.status):
            log.info(
                "venue status behind the order's: ignored",
                extra={
                    "client_order_id": order.client_order_id,
                    "status": order.status,
                    "venue_status": update.status,
                },
            )
        fill = update.fill
        if fill is not None:
            after = lifecycle.advance(order, update, fill)
            if await self.store.apply_execution(after, fill_record(after, fill)):
                key = (after.strategy, after.instrument_token)
                self.net_positions[key] = (
                    self.net_positions.get(key, 0) + after.side.sign * fill.quantity
                )
                self._position_info[key] = (after.symbol, after.product)
                self._last_fill_ns[key] = max(self._last_fill_ns.get(key, 0), fill.fill_ts)
                self._settle(order, after, update, out, fill)
                return
            log.warning("duplicate trade id ignored", extra={"trade_id": fill.trade_id})
        after = lifecycle.advance(order, update, None)
        if lifecycle.changed(order, after):
            await self.store.update_order(after)
            self._settle(order, after, update, out, None)
        else:
            self._check_fill_gap(after, update.filled_quantity, out, update.update_ts)

    async def _finished_order(self, update: VenueUpdate) -> OrderRecord | None:
        """The stored order of a trade that arrived after the order left the working set."""
        if update.fill is None:
            log.warning("venue update for an order not working", extra={"update": repr(update)})
            return None
        order = await self.store.get_order(update.client_order_id)
        if order is None or order.broker is not self.broker:
            log.warning("trade for an unknown order", extra={"update": repr(update)})
            return None
        log.warning(
            "trade after the order's final state: journalled",
            extra={"client_order_id": order.client_order_id, "trade_id": update.fill.trade_id},
        )
        return order

    def _settle(
        self,
        before: OrderRecord,
        after: OrderRecord,
        update: VenueUpdate,
        out: Emitter,
        fill: Fill | None,
    ) -> None:
        """Keep ``after`` as the working copy (or drop it when final) and announce it."""
        coid = after.client_order_id
        if after.status.is_terminal:
            self.working.pop(coid, None)
        else:
            self.working[coid] = after
        if fill is not None or after.status is not before.status:
            event = EVENT_FOR_STATUS.get(after.status, EventType.ORDER_OPEN)
            self._emit(out, event, after, update.update_ts, fill=fill)
            if fill is not None:
                order_story(FILL, after, fill=fill)
            if after.status.is_terminal and after.status is not before.status:
                order_story(FINAL, after, level=final_level(after.status))
        elif lifecycle.modified(before, after):
            self._emit(out, EventType.ORDER_MODIFIED, after, update.update_ts)
        self._check_fill_gap(after, update.filled_quantity, out, update.update_ts)

    def _check_fill_gap(self, order: OrderRecord, venue_filled: int, out: Emitter, ts: int) -> None:
        """Alert (in words) on every new gap between the venue's filled and the journal."""
        coid = order.client_order_id
        seen = self._fill_gaps.get(coid)
        if venue_filled == order.filled_quantity:
            if seen is not None:
                del self._fill_gaps[coid]
                self._alert(out, order, Severity.INFO, lifecycle.fill_gap_closed_message(order), ts)
            return
        gap = (venue_filled, order.filled_quantity)
        if seen == gap:
            return
        self._fill_gaps[coid] = gap
        message = lifecycle.fill_gap_message(order, venue_filled)
        log.warning("fills differ from the broker's", extra={"client_order_id": coid})
        self._alert(out, order, Severity.WARNING, message, ts)
