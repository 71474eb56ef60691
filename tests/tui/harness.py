"""``BusHarness``: an honest ``EngineHandle`` for console tests, on the real engine parts.

A real MemoryBus, the real ReadModelProcessor and the real TradingStateService with the
engine's own operator controls (``TradingOperator`` over ``TradingControl``): a kill here
halts the TradingState at once and travels the bus as the engine's own ControlCommand →
TradingStateChanged + kill alert, just as in the runtime.
Tests push real events (ticks, orders, positions, P&L, alerts, health) through the bus.
"""

from __future__ import annotations

import logging
import zlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.bus.memory import MemoryBus
from engine.clock import IST, ManualClock, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import (
    AnyPayload,
    ComponentHealth,
    HealthReport,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RiskAlert,
    Tick,
)
from engine.events.types import (
    Broker,
    ComponentStatus,
    EventType,
    OrderStatus,
    OrderType,
    Product,
    Severity,
    Side,
)
from engine.logs.ring import RingBufferHandler
from engine.processing.supervisor import Supervisor
from engine.read_model import ReadModel, ReadModelProcessor, StrategyInfo
from engine.read_model.run_clock import RunClock
from engine.risk.limits import RiskLimits
from engine.trading_state import TradingControl, TradingState, TradingStateService
from engine.trading_state.operator import TradingOperator, show_changes
from engine.venue import sessionless_venue
from tests.helpers import eventually

START_NS = datetime_to_ns(datetime(2025, 1, 15, 10, 15, 0, tzinfo=IST))
NS = 1_000_000_000


class RecordingOperator(TradingOperator):
    """The engine's own operator controls, noting each request (``halt_now`` is not one)."""

    def __init__(self, calls: list[tuple[str, object]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = calls

    async def kill(self, flatten: bool = False, operator: str = "") -> None:
        self.calls.append(("kill", flatten))
        await super().kill(flatten, operator)

    async def halt(self, strategy: str | None = None, operator: str = "") -> None:
        self.calls.append(("halt", strategy))
        await super().halt(strategy, operator)

    async def resume(self, strategy: str | None = None, operator: str = "") -> None:
        self.calls.append(("resume", strategy))
        await super().resume(strategy, operator)

    async def reduce(self, strategy: str | None = None, operator: str = "") -> None:
        self.calls.append(("reduce", strategy))
        await super().reduce(strategy, operator)

    async def exit_positions(self, *, symbol: str | None = None, **kwargs: Any) -> None:
        self.calls.append(("exit", (symbol, kwargs.get("strategy"))))
        await super().exit_positions(symbol=symbol, **kwargs)

    async def protect(self, *, strategy: str, instrument_token: int, **kwargs: Any) -> None:
        self.calls.append(("protect", (strategy, instrument_token)))
        await super().protect(strategy=strategy, instrument_token=instrument_token, **kwargs)


class BusHarness:
    """Implements ``EngineHandle`` over a real bus; ``calls`` records control requests."""

    def __init__(
        self, mode: str = "paper", *, with_logs: bool = True, run_clock: RunClock | None = None
    ) -> None:
        self.mode = mode
        self.broker = Broker.ZERODHA if mode == "live" else Broker.PAPER
        self.clock = ManualClock(START_NS)
        self.bus = MemoryBus(partitions=2, capacity=50_000)
        self.read_model = ReadModel(clock=run_clock)
        self.trading_state = TradingState(self.broker)
        self.control = TradingControl(self.bus, self.trading_state, self.broker, self.clock)
        self.log_ring: RingBufferHandler | None = RingBufferHandler(500) if with_logs else None
        self.venue = sessionless_venue(mode)  # no broker session here, like an attached console
        self.risk_limits = RiskLimits()  # the engine's defaults (price band 5%)
        self.processor = ReadModelProcessor(
            bus=self.bus, model=self.read_model, broker=self.broker, clock=self.clock
        )
        state_service = TradingStateService(
            bus=self.bus, state=self.trading_state, instance_id="harness", clock=self.clock
        )
        self.supervisor = Supervisor([self.processor, state_service])
        self.calls: list[tuple[str, object]] = []
        control = self.control
        self.controls = RecordingOperator(self.calls, lambda: control, reason="operator kill")
        show_changes(self.trading_state, self.read_model.apply_trading_state)
        self.started = False
        self.stopped = False

    # -- EngineHandle -------------------------------------------------------------
    async def start(self) -> None:
        await self.bus.start()
        self.supervisor.start()
        await eventually(
            lambda: all(s.status is ComponentStatus.RUNNING for s in self.supervisor.services),
            message="harness services not running",
        )
        self.started = True

    async def stop(self) -> None:
        self.stopped = True
        await self.supervisor.stop(timeout=2.0)
        await self.bus.aclose()

    # -- test input -----------------------------------------------------------------
    async def publish(
        self, topic: str, type_: EventType, payload: AnyPayload, key: str = ""
    ) -> None:
        broker = None if topic == topics.MARKET_TICKS else self.broker
        event = new_event(type_, payload, source="test", key=key, broker=broker, ts_ns=START_NS)
        await self.bus.publish(topic, event)

    async def drained(self) -> None:
        """Wait until the console (and trading state) consumed everything published."""
        await eventually(lambda: self.bus.total_lag() == 0, message="bus not drained")

    def log(self, level: int, logger: str, message: str, seconds: int = 0) -> None:
        """Add a log line with a fixed time, as the engine's logging would."""
        assert self.log_ring is not None
        record = logging.LogRecord(logger, level, __file__, 0, message, None, None)
        record.created = (START_NS + seconds * NS) / NS
        self.log_ring.handle(record)


def tick(token: int, symbol: str, price: str, close: str | None = None, at: int = 0) -> Tick:
    return Tick(
        instrument_token=token,
        symbol=symbol,
        last_price=Decimal(price),
        exchange_ts=START_NS + at * NS,
        close=Decimal(close) if close else None,
    )


def order(
    client_order_id: str,
    symbol: str,
    status: OrderStatus,
    *,
    strategy: str = "momentum",
    side: Side = Side.BUY,
    quantity: int = 10,
    filled: int = 0,
    price: str | None = None,
    reason: str = "",
    at: int = 0,
    broker: Broker = Broker.PAPER,
) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=client_order_id,
        strategy=strategy,
        broker=broker,
        instrument_token=zlib.crc32(symbol.encode()) % 100_000,
        symbol=symbol,
        side=side,
        quantity=quantity,
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        product=Product.MIS,
        status=status,
        filled_quantity=filled,
        price=Decimal(price) if price else None,
        average_price=Decimal(price) if price and filled else None,
        reason=reason,
        update_ts=START_NS + at * NS,
    )


TODAY = "2025-01-15"  # the trading day of START_NS


def position(
    strategy: str,
    token: int,
    symbol: str,
    qty: int,
    avg: str,
    realized: str = "0",
    charges: str = "0",
) -> PositionSnapshot:
    """A position traded today (its figures are all the day's), not yet marked."""
    return PositionSnapshot(
        broker=Broker.PAPER,
        strategy=strategy,
        instrument_token=token,
        symbol=symbol,
        net_quantity=qty,
        average_price=Decimal(avg),
        last_price=None,
        realized_pnl=Decimal(realized),
        unrealized_pnl=Decimal("0"),
        charges=Decimal(charges),
        updated_ts=START_NS - 600 * NS,
        trading_day=TODAY,
        day_realized_pnl=Decimal(realized),
        day_unrealized_pnl=Decimal("0"),
        day_charges=Decimal(charges),
    )


async def seed(harness: BusHarness) -> None:
    """A small, fixed trading morning: two strategies, positions, orders, alerts, health."""
    model = harness.read_model
    model.set_strategies(
        [
            StrategyInfo("mean_revert", "mean_reversion", ("NSE:SBIN",)),
            StrategyInfo("momentum", "momentum", ("NSE:INFY", "NSE:RELIANCE")),
        ]
    )
    model.set_session("AB1234", START_NS + (5 * 3600 + 12 * 60) * NS)
    publish = harness.publish
    pos = topics.positions(harness.broker)
    await publish(
        pos,
        EventType.POSITION_UPDATED,
        position("momentum", 408065, "NSE:INFY", 10, "1500.00", charges="11.80"),
    )
    await publish(
        pos,
        EventType.POSITION_UPDATED,
        position("momentum", 738561, "NSE:RELIANCE", -5, "2450.50", "120.00", "11.80"),
    )
    await publish(
        pos, EventType.POSITION_UPDATED, position("mean_revert", 779521, "NSE:SBIN", 20, "610.25")
    )
    for t in (
        tick(408065, "NSE:INFY", "1512.40", close="1498.00"),
        tick(738561, "NSE:RELIANCE", "2440.00", close="2455.00"),
        tick(779521, "NSE:SBIN", "608.75", close="605.00"),
    ):
        await publish(topics.MARKET_TICKS, EventType.MARKET_TICK, t, key=str(t.instrument_token))
    orders = topics.orders_events(harness.broker)
    for update in (
        order("ord-1", "NSE:INFY", OrderStatus.FILLED, filled=10, price="1500.00", at=-600),
        order(
            "ord-2", "NSE:SBIN", OrderStatus.OPEN, strategy="mean_revert", price="605.00", at=-60
        ),
        order(
            "ord-3",
            "NSE:TCS",
            OrderStatus.REJECTED,
            side=Side.SELL,
            reason="insufficient margin",
            at=-30,
        ),
    ):
        await publish(orders, EventType.ORDER_OPEN, update, key=update.client_order_id)
    pnl = topics.pnl_snapshots(harness.broker)
    for step, equity in enumerate(("1000000", "1000450", "1000120", "1000310")):
        snapshot = PnlSnapshot(
            broker=harness.broker,
            snapshot_ts=START_NS + step * NS,
            realized_pnl=Decimal("120.00"),
            unrealized_pnl=Decimal("141.50"),
            charges=Decimal("23.60"),
            cash=Decimal("1000000"),
            equity=Decimal(equity),
            gross_exposure=Decimal("39651.50"),
            trading_day=TODAY,
            day_realized_pnl=Decimal("120.00"),
            day_unrealized_pnl=Decimal("141.50"),
            day_charges=Decimal("23.60"),
        )
        await publish(pnl, EventType.PNL_SNAPSHOT, snapshot)
    alert = RiskAlert(
        severity=Severity.WARNING,
        rule="max_position_value",
        message="order would exceed the position limit of 50,000.00",
        strategy="momentum",
        symbol="NSE:TCS",
        alert_ts=START_NS - 30 * NS,
    )
    await publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert)
    report = HealthReport(
        reporter="runtime",
        components=(
            ComponentHealth(name="strategy-runner", status=ComponentStatus.RUNNING, lag=3),
            ComponentHealth(name="risk.paper", status=ComponentStatus.RUNNING),
            ComponentHealth(
                name="execution.paper",
                status=ComponentStatus.PAUSED,
                detail="breaker open",
                dlq_count=2,
            ),
            ComponentHealth(name="db", status=ComponentStatus.RUNNING, detail="sqlite"),
        ),
        report_ts=START_NS,
    )
    await publish(topics.SYSTEM_HEALTH, EventType.HEALTH, report)
    if harness.log_ring is not None:
        harness.log(logging.INFO, "alphapanda.bus", "bus started", -900)
        harness.log(
            logging.INFO, "alphapanda.execution.paper", "order ord-1 filled 10 @ 1500.00", -600
        )
        harness.log(
            logging.WARNING, "alphapanda.risk", "order ord-3 rejected: insufficient margin", -30
        )
