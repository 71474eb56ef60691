"""``ExecutionService``: validated signals become orders, outbox first; ticks become fills.

The path of one order: the validated signal's id gives a deterministic client order id;
the order is written to storage as PENDING before anything is sent (a redelivered
signal finds the id taken and sends nothing); the trading state is checked again just
before the order leaves (a kill switch pressed while the signal was in flight still
stops it); the venue's answer is stored, then announced. Every fill is journaled with
``apply_execution`` before its event is emitted, so positions rebuilt from the fill
journal after a crash match what the portfolio saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.records import FillRecord, OrderRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import (
    Fill,
    OrderCommand,
    OrderUpdate,
    RiskAlert,
    Signal,
    Tick,
)
from engine.events.types import (
    Broker,
    EventType,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Product,
    Severity,
    Side,
    TradingMode,
    Validity,
)
from engine.execution import lifecycle
from engine.execution.broker import BrokerAdapter, PaperAdapter
from engine.execution.charges import ChargeRates, ChargesModel
from engine.execution.fill_model import FillModel
from engine.execution.funds import FundsCheck
from engine.execution.mis_carry import MIS_CARRIED_RULE, CarriedMis, carried_mis
from engine.execution.mis_schedule import MisSchedule
from engine.execution.order_mapping import fill_record, order_intent, order_update
from engine.execution.paper_broker import PaperBroker, TickSizeOf
from engine.execution.reports import VenueUpdate
from engine.execution.validation import order_problem
from engine.ids import client_order_id
from engine.logs.order_story import ACK, FILL, FINAL, SENT, order_story
from engine.market.square_off import MisCutoffs, describe_cutoff, exchange_of
from engine.memo import remember
from engine.ports import ProcessedMark
from engine.processing.dedup import DedupStore
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.trading_state.state import TradingState

log = logging.getLogger("alphapanda.execution")

_WORKING = [s for s in OrderStatus if s.is_working]
_EVENT_FOR_STATUS = {
    OrderStatus.OPEN: EventType.ORDER_OPEN,
    OrderStatus.TRIGGER_PENDING: EventType.ORDER_OPEN,
    OrderStatus.PARTIALLY_FILLED: EventType.ORDER_PARTIALLY_FILLED,
    OrderStatus.FILLED: EventType.ORDER_FILLED,
    OrderStatus.CANCELLED: EventType.ORDER_CANCELLED,
    OrderStatus.REJECTED: EventType.ORDER_REJECTED,
}
FILL_GAP_RULE = "fills"  # alerts when the venue's filled quantity and the journal differ
FUNDS_RULE = "margin"  # the alert of an order refused because the account cannot pay
SQUARE_OFF = "square-off:"  # signal_id prefix of the orders a square-off sends
MIS_SQUARE_OFF = f"{SQUARE_OFF}mis:"  # ... sent at a segment's MIS cut-off
MIS_SQUARE_OFF_RULE = "mis_square_off"
PositionKey = tuple[str, int]  # (strategy, instrument token)
_SideKey = tuple[str, int, Side]  # (strategy, instrument token, side)
_KEY_CACHE = 65_536


class ExecutionStore(Protocol):
    """The slice of the storage port execution uses: the outbox and the fill journal."""

    async def insert_order(
        self, order: OrderRecord, processed: ProcessedMark | None = None
    ) -> bool: ...

    async def update_order(self, order: OrderRecord) -> None: ...

    async def apply_execution(self, order: OrderRecord, fill: FillRecord | None) -> bool: ...

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def list_orders(
        self, broker: Broker, statuses: Sequence[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...

    async def list_fills(self, broker: Broker) -> list[FillRecord]: ...


@dataclass(frozen=True, slots=True)
class ExecutionConfig:
    """Execution knobs; the paper venue's fill model and charges are built from them."""

    slippage_bps: Decimal = Decimal("0")
    charge_rates: ChargeRates = field(default_factory=ChargeRates)
    default_validity: Validity = Validity.DAY
    default_tick_size: Decimal = Decimal("0.05")  # NSE equities, when no lookup is given
    partial_fills: bool = True

    def __post_init__(self) -> None:
        if self.slippage_bps < 0:
            raise ValueError("slippage_bps must not be negative")
        if self.default_tick_size <= 0:
            raise ValueError("default_tick_size must be positive")


class ExecutionService(StreamProcessor):
    """Sends orders for one broker and turns the venue's fills into journaled events."""

    def __init__(
        self,
        *,
        bus: EventBus,
        broker: Broker,
        store: ExecutionStore,
        trading_state: TradingState,
        adapter: BrokerAdapter | None = None,
        settings: ExecutionConfig | None = None,
        tick_size_of: TickSizeOf | None = None,
        mis_cutoffs: MisCutoffs | None = None,
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
        funds_check: FundsCheck | None = None,
    ) -> None:
        name = f"execution.{broker.value}"
        super().__init__(
            name=name,
            bus=bus,
            input_topics=[
                topics.MARKET_TICKS,
                topics.orders_commands(broker),
                topics.signals_validated(broker),
            ],
            group=name,
            config=config,
            dedup=dedup,
            clock=clock,
        )
        if trading_state.broker is not broker:
            raise ValueError(f"trading state is for {trading_state.broker}, execution for {broker}")
        self.broker = broker
        self.store = store
        self.trading_state = trading_state
        self.settings = settings = settings or ExecutionConfig()
        default_tick = settings.default_tick_size
        self._tick_size_of: Callable[[int], Decimal | None] = tick_size_of or (
            lambda _token: default_tick
        )
        self.adapter: BrokerAdapter = adapter or PaperAdapter(
            PaperBroker(
                fill_model=FillModel(settings.slippage_bps, settings.partial_fills),
                charges=ChargesModel(settings.charge_rates),
                tick_size_of=self._tick_size_of,
            )
        )
        self.working: dict[str, OrderRecord] = {}  # sent, not yet terminal
        self.net_positions: dict[PositionKey, int] = {}
        self._position_info: dict[PositionKey, tuple[str, Product]] = {}  # symbol, product
        self._sent: set[str] = set()  # handed to the venue, not yet stored past PENDING
        # Venue updates found by ``handle_now`` for the tick ``handle`` is about to apply.
        self._venue_updates: dict[str, Sequence[VenueUpdate]] = {}
        self._events_topic = topics.orders_events(broker)
        self._keys: dict[PositionKey, str] = {}  # order key per (strategy, instrument)
        # (venue filled, journalled) per order whose fills differ, so each gap alerts once
        self._fill_gaps: dict[str, tuple[int, int]] = {}
        # MIS positions are squared off at their segment's cut-off (None: never)
        self.mis_schedule = MisSchedule(mis_cutoffs if mis_cutoffs is not None else MisCutoffs({}))
        self._last_fill_ns: dict[PositionKey, int] = {}  # event time, last fill
        self._placing = 0  # orders past the trading-state check, venue answer not stored
        # asked before an order that adds exposure leaves (live: Kite's order margins)
        self.funds_check = funds_check

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

    # -- start: recover what a previous process left --------------------------------
    async def on_start(self) -> None:
        await self._rebuild_positions()
        self.working.clear()
        at_venue = set(await self.adapter.open_orders())
        stored = await self.store.list_orders(self.broker, statuses=_WORKING, limit=1_000_000)
        lost = self._lost_at_restart(stored, at_venue)
        out = Emitter(self.name, None, self.clock.now_ns())
        for order in sorted(stored, key=lambda o: (o.created_ts, o.client_order_id)):
            await self._recover(order, at_venue, lost, out)
        await self._publish(out)

    def _lost_at_restart(self, stored: Sequence[OrderRecord], at_venue: set[str]) -> set[_SideKey]:
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
        self, order: OrderRecord, at_venue: set[str], lost: set[_SideKey], out: Emitter
    ) -> None:
        coid = order.client_order_id
        if coid in at_venue:
            self.working[coid] = order
        elif order.status is OrderStatus.PENDING:
            await self._recover_pending(order, lost, out)
            if order.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
                lost.add((order.strategy, order.instrument_token, order.side))
        elif self.adapter.book_lost_on_restart:
            await self._close(
                order, OrderStatus.CANCELLED, "paper session restarted", out, self.clock.now_ns()
            )
        else:
            self.working[coid] = order  # a live venue: the reconciler settles it
        log.info("order recovered", extra={"client_order_id": coid, "status": order.status})

    async def _recover_pending(self, order: OrderRecord, lost: set[_SideKey], out: Emitter) -> None:
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
            await self._reject(order, reason, out, self.clock.now_ns())
            return
        # A square-off written before a crash still only reduces: it may go out halted.
        square_off = order.signal_id.startswith(SQUARE_OFF) and self._reduces(order)
        reason = self.trading_state.block_reason(order.strategy, lambda: self._reduces(order))
        if reason is None or square_off:
            await self._send(order, out, bypass_halt=square_off)
            return
        halted = self.trading_state.effective(order.strategy) is TradingMode.HALTED
        prefix = "halted at restart" if halted else "blocked at restart"
        await self._reject(order, f"{prefix}: {reason}", out, self.clock.now_ns())

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
        stored = await self.store.list_orders(self.broker, statuses=_WORKING, limit=1_000_000)
        if not stored:
            return
        out = Emitter(self.name, None, self.clock.now_ns())
        reason = "paper session stopped: the paper venue cannot fill it after the process ends"
        for order in sorted(stored, key=lambda o: (o.created_ts, o.client_order_id)):
            if order.client_order_id in self.working:
                await self.adapter.cancel(order)  # out of the venue's book first
            await self._close(order, OrderStatus.CANCELLED, reason, out, self.clock.now_ns())
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

    # -- events ---------------------------------------------------------------------
    def handle_now(self, envelope: EventEnvelope) -> bool:
        """Match a tick at the venue; done here unless it filled or triggered something.

        The venue's updates are kept under the tick's id for ``handle`` to journal and
        announce, so the venue is not asked twice about one tick.
        """
        data = envelope.data
        if type(data) is not Tick:
            return False
        if data.exchange_ts >= self.mis_schedule.next_ns:
            return False  # an MIS cut-off may be due: ``handle`` squares off
        updates = self.adapter.on_tick(data)
        if not updates:
            return True
        self._venue_updates[envelope.id] = updates
        return False

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
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
                await self._apply_venue_update(_as_venue_update(data), out)

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
            validity=self.settings.default_validity,
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
        problem = order_problem(
            order_type=order.order_type,
            side=order.side,
            quantity=order.quantity,
            price=order.price,
            trigger_price=order.trigger_price,
            tick_size=self._tick_size_of(order.instrument_token),
        )
        if problem is None and not bypass_halt:
            problem = self.trading_state.block_reason(order.strategy, lambda: self._reduces(order))
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

    def _reduces(self, order: OrderRecord) -> bool:
        """True when the order only shrinks the strategy's net position (counting working ones)."""
        net = self.net_positions.get((order.strategy, order.instrument_token), 0)
        if net == 0 or (net > 0) == (order.side is Side.BUY):
            return False
        already = sum(
            o.quantity - o.filled_quantity
            for o in self.working.values()
            if o.strategy == order.strategy
            and o.instrument_token == order.instrument_token
            and o.side is order.side
            and o.client_order_id != order.client_order_id
        )
        return order.quantity + already <= abs(net)

    # -- the tick path ------------------------------------------------------------
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
            event = _EVENT_FOR_STATUS.get(after.status, EventType.ORDER_OPEN)
            self._emit(out, event, after, update.update_ts, fill=fill)
            if fill is not None:
                order_story(FILL, after, fill=fill)
            if after.status.is_terminal and after.status is not before.status:
                order_story(FINAL, after, level=_final_level(after.status))
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

    def _alert(
        self,
        out: Emitter,
        order: OrderRecord,
        severity: Severity,
        message: str,
        ts: int,
        *,
        rule: str = FILL_GAP_RULE,
    ) -> None:
        alert = RiskAlert(
            severity=severity,
            rule=rule,
            message=message,
            broker=self.broker,
            strategy=order.strategy,
            symbol=order.symbol,
            alert_ts=ts,
        )
        out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=self._key(order))

    # -- operator and kill-switch commands -------------------------------------------
    async def _on_command(
        self, envelope: EventEnvelope, command: OrderCommand, out: Emitter
    ) -> None:
        action = command.action
        if action is OrderCommandAction.CANCEL_ALL:
            for order in list(self.working.values()):
                if command.strategy is None or order.strategy == command.strategy:
                    ts = self._venue_ts(order, envelope.ts)
                    await self._cancel(order, command.reason or "kill switch", out, ts)
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
                await self._modify(order, command, out, envelope.ts)

    def _venue_ts(self, order: OrderRecord, command_ts: int) -> int:
        """When an operator's cancel happened in the venue's time: on the paper venue its
        newest tick of the order's instrument (the simulated market's clock, not the wall
        clock the command was stamped in), else the command's own time."""
        venue_ts = self.adapter.event_time_ns(order.instrument_token)
        return command_ts if venue_ts is None else max(venue_ts, order.created_ts)

    def _working_for(self, command: OrderCommand) -> OrderRecord | None:
        order = self.working.get(command.client_order_id or "")
        if order is None:
            log.warning(
                "order command for an order that is not working",
                extra={"action": command.action, "client_order_id": command.client_order_id},
            )
        return order

    async def _cancel(self, order: OrderRecord, reason: str, out: Emitter, ts: int) -> None:
        ack = await self.adapter.cancel(order)
        if not ack.accepted:
            log.warning(
                "cancel refused by the venue",
                extra={"client_order_id": order.client_order_id, "reason": ack.reason},
            )
            return
        await self._close(order, OrderStatus.CANCELLED, reason, out, ts)

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
            alert = RiskAlert(
                severity=Severity.WARNING,
                rule="order_modify",
                message=message,
                broker=self.broker,
                strategy=order.strategy,
                symbol=order.symbol,
                alert_ts=ts,
            )
            out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=self._key(order))
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

    async def _square_off(
        self, envelope: EventEnvelope, command: OrderCommand, out: Emitter
    ) -> None:
        """Flatten every position with MARKET orders; reductions may go out while HALTED."""
        for (strategy, token), net in list(self.net_positions.items()):
            if net == 0 or (command.strategy is not None and strategy != command.strategy):
                continue
            await self._flatten(
                (strategy, token),
                net,
                cause=envelope.id,
                signal_id=f"{SQUARE_OFF}{envelope.id}",
                reason=command.reason or "square off",
                ts=envelope.ts,
                out=out,
            )

    async def _mis_due(self, cause: str, tick: Tick, out: Emitter) -> None:
        """Square off what ``tick`` made due: each cut-off reached, then, on the first tick of
        a trading day, MIS positions carried from an earlier one (``engine.execution.mis_carry``).

        Live, a cut-off of an earlier day is the broker's to have acted on: left to the
        carried check, which alerts instead of sending.
        """
        schedule = self.mis_schedule
        day_before = schedule.window
        due = schedule.due(tick.exchange_ts)
        today = schedule.window
        paper = self.broker is Broker.PAPER
        for cutoff_ns, exchange in due:
            if paper or today is None or cutoff_ns >= today.start_ns:
                await self._square_off_mis(cause, cutoff_ns, exchange, tick, out)
        if today is None or today is day_before:
            return
        positions = self.net_positions
        found = carried_mis(positions, self._position_info, self._last_fill_ns, today, schedule)
        for carried in found:
            if paper:
                await self._square_off_carried(cause, carried, tick, out)
            else:
                self._alert_carried(carried, tick, out)

    async def _square_off_carried(
        self, cause: str, carried: CarriedMis, tick: Tick, out: Emitter
    ) -> None:
        """Paper: close an MIS position carried from an earlier day at market, now."""
        order = await self._flatten(
            carried.key,
            carried.net,
            cause=f"{MIS_SQUARE_OFF}carried:{cause}",
            signal_id=f"{MIS_SQUARE_OFF}carried:{cause}",
            reason=f"MIS position carried from {carried.from_day}",
            ts=tick.exchange_ts,
            out=out,
        )
        if order is None:
            return
        message = carried.squared_off(order.side.value, order.quantity)
        self._announce_square_off(
            "MIS carried position squared off", order, MIS_CARRIED_RULE, message, tick, out
        )

    def _alert_carried(self, carried: CarriedMis, tick: Tick, out: Emitter) -> None:
        """Live: Zerodha has closed it already; an order now would open a new position."""
        message = carried.left_to_broker()
        log.error(
            "MIS carried position left to the broker",
            extra={"strategy": carried.key[0], "symbol": carried.symbol, "reason": message},
        )
        self._position_alert(
            Severity.CRITICAL, MIS_CARRIED_RULE, carried.key, carried.symbol, message, tick, out
        )

    def _announce_square_off(
        self, event: str, order: OrderRecord, rule: str, message: str, tick: Tick, out: Emitter
    ) -> None:
        """Log a square-off order this service placed and tell the operator in words."""
        log.warning(
            event,
            extra={
                "client_order_id": order.client_order_id,
                "strategy": order.strategy,
                "symbol": order.symbol,
                "side": order.side.value,
                "quantity": order.quantity,
                "reason": message,
            },
        )
        key = (order.strategy, order.instrument_token)
        self._position_alert(Severity.WARNING, rule, key, order.symbol, message, tick, out)

    def _position_alert(
        self,
        severity: Severity,
        rule: str,
        key: PositionKey,
        symbol: str,
        message: str,
        tick: Tick,
        out: Emitter,
    ) -> None:
        alert = RiskAlert(
            severity=severity,
            rule=rule,
            message=message,
            broker=self.broker,
            strategy=key[0],
            symbol=symbol,
            alert_ts=tick.exchange_ts,
        )
        out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=self._position_key(key))

    async def _square_off_mis(
        self, cause: str, cutoff_ns: int, exchange: str, tick: Tick, out: Emitter
    ) -> None:
        """Close every MIS position of ``exchange``: its cut-off passed at ``tick``'s time.

        CNC and NRML positions carry over untouched. The orders go out while HALTED too
        (they only reduce), and the strategies' intents follow their fills.
        """
        when = describe_cutoff(exchange, cutoff_ns)
        for key, net in list(self.net_positions.items()):
            symbol, product = self._position_info.get(key, ("", Product.MIS))
            if net == 0 or product is not Product.MIS or exchange_of(symbol) != exchange:
                continue
            order = await self._flatten(
                key,
                net,
                cause=f"{MIS_SQUARE_OFF}{cause}",
                signal_id=f"{MIS_SQUARE_OFF}{exchange}:{cause}",
                reason=f"MIS square-off at the {when}",
                ts=tick.exchange_ts,
                out=out,
            )
            if order is None:
                continue
            message = (
                f"MIS square-off at the {when}: {order.side.value} {order.quantity} {symbol} "
                f"at market for {key[0]} (held {net:+d})"
            )
            self._announce_square_off(
                "MIS square-off", order, MIS_SQUARE_OFF_RULE, message, tick, out
            )

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
    ) -> OrderRecord | None:
        """Send one MARKET order closing ``net`` less what is already working to close it.

        The client order id derives from ``cause``, so a retried handler sends nothing new.
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
            order_type=OrderType.MARKET,
            product=product,
            validity=Validity.DAY,
            reason=reason,
            created_ts=ts,
            updated_ts=ts,
        )
        if not await self.store.insert_order(order):
            return None
        await self._send(order, out, bypass_halt=True)
        return order

    # -- shared -----------------------------------------------------------------------
    async def _reject(self, order: OrderRecord, reason: str, out: Emitter, ts: int) -> None:
        await self._close(order, OrderStatus.REJECTED, reason, out, ts)

    async def _close(
        self, order: OrderRecord, status: OrderStatus, reason: str, out: Emitter, ts: int
    ) -> None:
        order.status = status
        order.reason = reason
        order.updated_ts = ts
        await self.store.update_order(order)
        self.working.pop(order.client_order_id, None)
        self._emit(out, _EVENT_FOR_STATUS[status], order, ts)
        order_story(FINAL, order, level=_final_level(status))

    def _key(self, order: OrderRecord) -> str:
        """The order key of ``order`` (remembered per strategy and instrument)."""
        return self._position_key((order.strategy, order.instrument_token))

    def _position_key(self, slot: PositionKey) -> str:
        key = self._keys.get(slot)
        if key is None:
            key = remember(self._keys, slot, topics.order_key(self.broker, *slot), _KEY_CACHE)
        return key

    def _emit(
        self,
        out: Emitter,
        event: EventType,
        order: OrderRecord,
        ts: int,
        *,
        status: OrderStatus | None = None,
        fill: Fill | None = None,
    ) -> None:
        update = order_update(order, ts, status=status, fill=fill)
        out.emit(
            self._events_topic,
            event,
            update,
            key=self._key(order),
            broker=self.broker,
        )


def _final_level(status: OrderStatus) -> int:
    """A rejected order is a warning in the trading channel; filled or cancelled is news."""
    return logging.WARNING if status is OrderStatus.REJECTED else logging.INFO


def _as_venue_update(update: OrderUpdate) -> VenueUpdate:
    """A live venue's ``OrderUpdate`` (``ORDER_VENUE_UPDATE``) as the paper path reports it."""
    return VenueUpdate(
        client_order_id=update.client_order_id,
        status=update.status,
        filled_quantity=update.filled_quantity,
        average_price=update.average_price,
        fill=update.fill,
        reason=update.reason,
        update_ts=update.update_ts,
        quantity=update.quantity,
        price=update.price,
        trigger_price=update.trigger_price,
    )
