"""The shared part of execution: its state, and how an order is closed and announced.

``ExecutionService`` is built in layers, one concern per module: this core, the venue's
updates (``venue_fills``), sending (``sending``), the kill switch's effect on orders
(``kill_switch``), MIS square-offs (``mis_square_off``) and the restart restore
(``restart``). Each layer sees only the ones below it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.records import FillRecord, OrderRecord
from engine.domain.reducing import only_reduces
from engine.events import topics
from engine.events.payloads import Fill, RiskAlert
from engine.events.types import Broker, EventType, OrderStatus, Product, Severity, Side, Validity
from engine.execution.broker import BrokerAdapter, PaperAdapter
from engine.execution.charges import ChargeRates, ChargesModel
from engine.execution.fill_model import FillModel
from engine.execution.funds import FundsCheck
from engine.execution.mis_schedule import MisSchedule
from engine.execution.order_mapping import order_update
from engine.execution.paper_broker import PaperBroker, TickSizeOf
from engine.execution.reports import VenueUpdate
from engine.logs.order_story import FINAL, order_story
from engine.market.square_off import ZERODHA_AUTO_SQUARE_OFF, MisCutoffs
from engine.memo import remember
from engine.ports import ProcessedMark
from engine.processing.dedup import DedupStore
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.trading_state.alarms import keep_alarm
from engine.trading_state.state import TradingState

if TYPE_CHECKING:  # mis_held names this module's rule
    from engine.execution.mis_held import HeldSquareOff

log = logging.getLogger("alphapanda.execution")

WORKING = [s for s in OrderStatus if s.is_working]
EVENT_FOR_STATUS = {
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
SideKey = tuple[str, int, Side]  # (strategy, instrument token, side)
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


class ExecutionCore(StreamProcessor):
    """What every part of execution shares: the working orders, the positions they make,
    and how an order is closed, announced and keyed. ``ExecutionService`` adds the rest."""

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
        venue_square_off: MisCutoffs | None = None,
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
        funds_check: FundsCheck | None = None,
        run_clock: Clock | None = None,
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
        # The run's time (the simulated market's on SIM) for what a restart or a stop does
        # to orders by itself: a lost paper order's cancellation stamped with the wall clock
        # read as hours before the order was placed.
        self.run_clock = run_clock or self.clock
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
        # The paper venue squares off MIS itself at Zerodha's times, as Zerodha does live
        # (for a fee): what a HALTED engine or a switched-off cut-off leaves open. None:
        # Zerodha's table on paper; live, the broker does it and nothing is scheduled here.
        if venue_square_off is None or broker is not Broker.PAPER:
            venue_times = ZERODHA_AUTO_SQUARE_OFF if broker is Broker.PAPER else {}
            venue_square_off = MisCutoffs(venue_times, self.mis_schedule.cutoffs.calendar)
        self.venue_square_off = MisSchedule(venue_square_off)
        self._last_fill_ns: dict[PositionKey, int] = {}  # event time, last fill
        # MIS square-offs a HALTED strategy could not send, until trading resumes
        self._held_mis: dict[PositionKey, HeldSquareOff] = {}
        self._placing = 0  # orders past the trading-state check, venue answer not stored
        # asked before an order that adds exposure leaves (live: Kite's order margins)
        self.funds_check = funds_check
        # CRITICAL alerts raised while handling an event, kept in the store after it
        self._alarms: list[RiskAlert] = []

    def _reduces(self, order: OrderRecord) -> bool:
        """True when the order only shrinks the strategy's net position (counting working ones)."""
        net = self.net_positions.get((order.strategy, order.instrument_token), 0)
        return only_reduces(net, order.side, order.quantity, lambda: self._working_beside(order))

    def _working_beside(self, order: OrderRecord) -> int:
        """What other working orders of the strategy still have open on ``order``'s side."""
        return sum(
            o.quantity - o.filled_quantity
            for o in self.working.values()
            if o.strategy == order.strategy
            and o.instrument_token == order.instrument_token
            and o.side is order.side
            and o.client_order_id != order.client_order_id
        )

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
        key = (order.strategy, order.instrument_token)
        self._position_alert(severity, rule, key, order.symbol, message, ts, out)

    def _position_alert(
        self,
        severity: Severity,
        rule: str,
        key: PositionKey,
        symbol: str,
        message: str,
        ts: int,
        out: Emitter,
    ) -> None:
        alert = RiskAlert(
            severity=severity,
            rule=rule,
            message=message,
            broker=self.broker,
            strategy=key[0],
            symbol=symbol,
            alert_ts=ts,
        )
        out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=self._position_key(key))
        if severity is Severity.CRITICAL:
            self._alarms.append(alert)

    async def _keep_alarms(self) -> None:
        """Store the CRITICAL alerts raised since the last call (execution runs in one
        process per cluster, so each is stored once): a restarted console pins them."""
        if not self._alarms:  # every tick passes here
            return
        alarms, self._alarms = self._alarms, []
        for alert in alarms:
            await keep_alarm(self.store, alert)

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
        self._emit(out, EVENT_FOR_STATUS[status], order, ts)
        order_story(FINAL, order, level=final_level(status))

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


def final_level(status: OrderStatus) -> int:
    """A rejected order is a warning in the trading channel; filled or cancelled is news."""
    return logging.WARNING if status is OrderStatus.REJECTED else logging.INFO
