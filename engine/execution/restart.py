"""Execution's restart restore: what a previous process left is settled before new work.

Positions are rebuilt from the fill journal; working orders the venue still holds stay
working; an order the outbox never sent is sent now unless it may no longer go out; on
the paper venue (whose book dies with the process) the rest are cancelled, at start and
on a graceful stop.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.domain.records import OrderRecord
from engine.events.types import OrderStatus, Product, Side, TradingMode
from engine.execution.core import SQUARE_OFF, WORKING, PositionKey, SideKey, log
from engine.execution.sending import OrderSending
from engine.processing.emitter import Emitter


class RestartRestore(OrderSending):
    """Recovers orders and positions at start; closes the paper book at a graceful stop."""

    async def on_start(self) -> None:
        await self._rebuild_positions()
        self.working.clear()
        at_venue = set(await self.adapter.open_orders())
        stored = await self.store.list_orders(self.broker, statuses=WORKING, limit=1_000_000)
        lost = self._lost_at_restart(stored, at_venue)
        out = Emitter(self.name, None, self.clock.now_ns())
        for order in sorted(stored, key=lambda o: (o.created_ts, o.client_order_id)):
            await self._recover(order, at_venue, lost, out)
        await self._keep_alarms()
        await self._publish(out)

    def _lost_at_restart(self, stored: Sequence[OrderRecord], at_venue: set[str]) -> set[SideKey]:
        """The sides (per strategy and instrument) on which this start ends a working order
        unfilled: every sent order a lost paper book held."""
        if not self.adapter.book_lost_on_restart:
            return set()
        return {
            (o.strategy, o.instrument_token, o.side)
            for o in stored
            if o.client_order_id not in at_venue
            and o.status is not OrderStatus.PENDING
            and o.quantity > o.filled_quantity
        }

    async def _recover(
        self, order: OrderRecord, at_venue: set[str], lost: set[SideKey], out: Emitter
    ) -> None:
        coid = order.client_order_id
        if coid in at_venue:
            self.working[coid] = order
        elif order.status is OrderStatus.PENDING:
            await self._recover_pending(order, lost, out)
            if order.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
                lost.add((order.strategy, order.instrument_token, order.side))
        elif self.adapter.book_lost_on_restart:
            reason = "paper session restarted"
            await self._close(order, OrderStatus.CANCELLED, reason, out, self.run_clock.now_ns())
        else:
            self.working[coid] = order  # a live venue: the reconciler settles it
        log.info("order recovered", extra={"client_order_id": coid, "status": order.status})

    async def _recover_pending(self, order: OrderRecord, lost: set[SideKey], out: Emitter) -> None:
        """Send an order the outbox never sent, unless it may no longer go out.

        Risk let it through counting the strategy's working orders on the other side as if
        they fill. One of those ended unfilled at this start (a lost paper book, an unsent
        order refused here), so the room it made is gone: sent now, the order could leave
        the strategy beyond its size or short. It is refused unsent (as a halted restart
        refuses one) unless it only reduces the journal's position; the strategy decides
        again from what it holds.
        """
        other = Side.SELL if order.side is Side.BUY else Side.BUY
        if (order.strategy, order.instrument_token, other) in lost and not self._reduces(order):
            reason = (
                f"blocked at restart: let through beside a {other.value} of {order.strategy} "
                f"in {order.symbol} that ended unfilled at this restart, so it could leave "
                "the strategy beyond its size"
            )
            await self._reject(order, reason, out, self.run_clock.now_ns())
            return
        # A square-off written before a crash still only reduces: it may go out halted.
        square_off = order.signal_id.startswith(SQUARE_OFF) and self._reduces(order)
        blocked = self.trading_state.block_reason(order.strategy, lambda: self._reduces(order))
        if blocked is None or square_off:
            await self._send(order, out, bypass_halt=square_off)
            return
        halted = self.trading_state.effective(order.strategy) is TradingMode.HALTED
        prefix = "halted at restart" if halted else "blocked at restart"
        await self._reject(order, f"{prefix}: {blocked}", out, self.run_clock.now_ns())

    async def on_stop(self) -> None:
        """Close the paper venue's working orders: its book ends with this process, so
        nothing can fill them and the store must not show them OPEN until the next start.

        Only on a graceful stop, after the last event is handled: after a crash the
        supervisor restarts this service over the same venue book, and a lost lease hands
        the orders to the next holder. A live venue keeps its orders: Zerodha still holds
        them and the reconciler settles them on start.
        """
        if not (self.adapter.book_lost_on_restart and self.stopping and not self._abandoned):
            return
        stored = await self.store.list_orders(self.broker, statuses=WORKING, limit=1_000_000)
        if not stored:
            return
        out = Emitter(self.name, None, self.clock.now_ns())
        reason = "paper session stopped: the paper venue cannot fill it after the process ends"
        for order in sorted(stored, key=lambda o: (o.created_ts, o.client_order_id)):
            if order.client_order_id in self.working:
                await self.adapter.cancel(order)  # out of the venue's book first
            await self._close(order, OrderStatus.CANCELLED, reason, out, self.run_clock.now_ns())
        await self._publish(out)
        log.info("paper orders cancelled at stop", extra={"orders": len(stored)})

    async def _rebuild_positions(self) -> None:
        self.net_positions.clear()
        self._last_fill_ns.clear()
        last_order: dict[PositionKey, str] = {}
        for fill in await self.store.list_fills(self.broker):
            key = (fill.strategy, fill.instrument_token)
            self.net_positions[key] = (
                self.net_positions.get(key, 0) + fill.side.sign * fill.quantity
            )
            last_order[key] = fill.client_order_id
            self._last_fill_ns[key] = max(self._last_fill_ns.get(key, 0), fill.fill_ts)
            self._position_info[key] = (fill.symbol, Product.MIS)
        for key, net in self.net_positions.items():
            if net:
                order = await self.store.get_order(last_order[key])
                if order is not None:
                    self._position_info[key] = (order.symbol, order.product)
