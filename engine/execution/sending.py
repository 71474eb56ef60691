"""Execution's sending: outbox first, the trading state checked at the last moment.

A validated signal's id gives a deterministic client order id; the order is written to
storage as PENDING before anything is sent (a redelivered signal finds the id taken and
sends nothing); the trading state is checked again just before the order leaves (a kill
switch pressed while the signal was in flight still stops it), and once more after an
awaited funds check; the venue's answer is stored, then announced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from engine.domain.records import OrderRecord
from engine.events.envelope import EventEnvelope
from engine.events.payloads import Signal
from engine.events.types import EventType, OrderStatus, OrderType, Product, Severity, Side, Validity
from engine.execution.core import FUNDS_RULE, PositionKey, log
from engine.execution.order_mapping import order_intent
from engine.execution.validation import order_problem_of
from engine.execution.venue_fills import VenueFills
from engine.ids import client_order_id
from engine.logs.order_story import ACK, SENT, order_story
from engine.market.square_off import describe_cutoff, exchange_of
from engine.processing.emitter import Emitter


class OrderSending(VenueFills):
    """Places orders at the venue: a strategy's, and the market orders that close a position."""

    async def wait_sends_idle(self, timeout_s: float = 5.0) -> bool:
        """Wait until no order is between its trading-state check and its stored outcome.

        Called after HALTED is set: from then on no order passes the check, so once this
        returns True nothing more can leave and every order that left is on record (the
        kill switch's acknowledgement to the CLI). False if one is still out after
        ``timeout_s`` (a venue that does not answer).
        """
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._placing:
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.002)
        return True

    async def _on_signal(self, envelope: EventEnvelope, signal: Signal, out: Emitter) -> None:
        coid = client_order_id(signal.signal_id)
        ts = signal.signal_ts or envelope.ts
        order = OrderRecord(
            client_order_id=coid,
            broker=self.broker,
            strategy=signal.strategy,
            signal_id=signal.signal_id,
            instrument_token=signal.instrument_token,
            symbol=signal.symbol,
            side=signal.side,
            quantity=signal.quantity,
            order_type=signal.order_type,
            product=signal.product,
            validity=signal.validity or self.settings.default_validity,
            price=signal.limit_price if signal.order_type is not OrderType.MARKET else None,
            trigger_price=signal.trigger_price,
            created_ts=ts,
            updated_ts=ts,
        )
        if not await self.store.insert_order(order, (self.group, envelope.id)):
            existing = await self.store.get_order(coid)
            if existing is None or existing.status is not OrderStatus.PENDING or coid in self._sent:
                log.info(
                    "signal already has an order: not sent again",
                    extra={"client_order_id": coid, "signal_id": signal.signal_id},
                )
                return
            order = existing  # written by an earlier attempt that failed before sending
        await self._send(order, out, bypass_halt=False)

    async def _send(self, order: OrderRecord, out: Emitter, *, bypass_halt: bool) -> None:
        """Validate, check the trading state once more, then hand the order to the venue."""
        ts = order.updated_ts or order.created_ts
        problem = order_problem_of(order, self._tick_size_of(order.instrument_token))
        if problem is None and not bypass_halt:
            problem = self.trading_state.block_reason(order.strategy, lambda: self._reduces(order))
        if problem is None and not bypass_halt:
            late = self._mis_entry_after_cutoff(order)
            if late is not None:
                # CANCELLED, not REJECTED: the venue never saw it, and one such exit per
                # instrument at a 15:15 bar close would count towards the repeated
                # rejections that halt trading.
                await self._close(order, OrderStatus.CANCELLED, late, out, ts)
                return
        if problem is not None:
            await self._reject(order, problem, out, ts)
            return
        self._placing += 1  # from the passed check until the outcome is on record
        try:
            if self.funds_check is not None and not bypass_halt and not self._reduces(order):
                if not await self._funds_cover(order, out, ts):
                    return
            await self._place(order, out, ts)
        finally:
            self._placing -= 1

    def _mis_entry_after_cutoff(self, order: OrderRecord) -> str | None:
        """Why an MIS order that does not reduce its position may not leave: its segment's
        cut-off has been reached today (None when it may).

        Risk refuses such entries by the signal's time, but it judges a signal against the
        position as it was: a strategy's exit approved while the position was open, and
        arriving here after the cut-off's square-off of it went out, was a second sell (in
        the console, +5 TCS became -5 and the paper venue bought it back at 15:20 for ₹59).
        Checked here, against the positions and working orders as execution holds them now.
        """
        if order.product is not Product.MIS:
            return None
        exchange = exchange_of(order.symbol)
        cutoff = self.mis_schedule.passed(exchange, order.updated_ts or order.created_ts)
        if cutoff is None or self._reduces(order):
            return None
        return (
            f"no new MIS entries after the {describe_cutoff(exchange, cutoff)}: "
            f"{order.side.value} {order.quantity} {order.symbol} refused (the position is "
            "closed or closing); exits are still allowed and MIS entries reopen at the next "
            "session"
        )

    async def _funds_cover(self, order: OrderRecord, out: Emitter, ts: int) -> bool:
        """Ask the funds check; refuse the order unsent (with an alert) when not covered.

        The trading state is read again afterwards: a kill pressed during the check
        still stops the order.
        """
        assert self.funds_check is not None
        problem = await self.funds_check.problem(order_intent(order))
        if problem is not None:
            await self._reject(order, problem, out, ts)
            self._alert(out, order, Severity.WARNING, problem, ts, rule=FUNDS_RULE)
            return False
        problem = self.trading_state.block_reason(order.strategy, lambda: self._reduces(order))
        if problem is not None:
            await self._reject(order, problem, out, ts)
            return False
        return True

    async def _place(self, order: OrderRecord, out: Emitter, ts: int) -> None:
        """Hand a checked order to the venue and store what it answered."""
        coid = order.client_order_id
        self._sent.add(coid)
        order_story(SENT, order)
        ack = await self.adapter.place(order_intent(order))
        if not ack.accepted:
            await self._reject(order, ack.reason or "rejected by the broker", out, ts)
            self._sent.discard(coid)  # stored as REJECTED: the status guards it now
            return
        order.status = ack.status
        order.broker_order_id = ack.broker_order_id
        await self.store.update_order(order)
        order_story(ACK, order)
        if order.status is not OrderStatus.PENDING:
            # On record as sent, so a redelivered signal is not sent again: forget the id
            # (the set holds only orders whose sending is not on record yet: bounded).
            self._sent.discard(coid)
        self.working[order.client_order_id] = order
        self._emit(out, EventType.ORDER_SUBMITTED, order, ts, status=OrderStatus.SUBMITTED)
        if ack.warning:  # accepted in part (an autoslice leg refused): never re-sent
            self._alert(out, order, Severity.CRITICAL, ack.warning, ts)
        if ack.status in (OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING):
            self._emit(out, EventType.ORDER_OPEN, order, ts)
        for update in self.adapter.catch_up(order.client_order_id):
            await self._apply_venue_update(update, out)

    async def _flatten(
        self,
        key: PositionKey,
        net: int,
        *,
        cause: str,
        signal_id: str,
        reason: str,
        ts: int,
        out: Emitter,
        limit_price: Decimal | None = None,
        bypass_halt: bool = True,
        before_send: Callable[[OrderRecord], None] | None = None,
    ) -> OrderRecord | None:
        """Send one MARKET order (LIMIT at ``limit_price`` when given: an operator's limit
        exit) closing ``net`` less what is already working to close it.

        The client order id derives from ``cause``, so a retried handler sends nothing new.
        ``bypass_halt``: an operator's explicit exit goes out while HALTED; the engine's own
        (an MIS square-off) passes the trading-state check like any order (it reduces, so
        REDUCING lets it out). ``before_send`` sees the stored order just before it goes.
        """
        strategy, token = key
        side = Side.SELL if net > 0 else Side.BUY
        pending = sum(
            o.quantity - o.filled_quantity
            for o in self.working.values()
            if o.strategy == strategy and o.instrument_token == token and o.side is side
        )
        quantity = abs(net) - pending
        if quantity <= 0:
            return None
        symbol, product = self._position_info.get(key, ("", Product.MIS))
        order = OrderRecord(
            client_order_id=client_order_id(f"{cause}:{strategy}:{token}", prefix="SQ"),
            broker=self.broker,
            strategy=strategy,
            signal_id=signal_id,
            instrument_token=token,
            symbol=symbol,
            side=side,
            quantity=quantity,
            order_type=OrderType.MARKET if limit_price is None else OrderType.LIMIT,
            product=product,
            validity=Validity.DAY,
            price=limit_price,
            reason=reason,
            created_ts=ts,
            updated_ts=ts,
        )
        if not await self.store.insert_order(order):
            return None
        if before_send is not None:
            before_send(order)
        await self._send(order, out, bypass_halt=bypass_halt)
        return order
