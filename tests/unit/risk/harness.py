"""A running RiskManager on a MemoryBus, fed the events the other services emit."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.bus.memory import MemoryBus, MemorySubscription
from engine.clock import IST, datetime_to_ns
from engine.domain.records import OrderRecord
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import (
    AnyPayload,
    ControlCommand,
    Fill,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RejectedSignal,
    RiskAlert,
    Signal,
    Tick,
)
from engine.events.types import (
    Broker,
    ComponentStatus,
    EventType,
    OrderStatus,
    OrderType,
    Product,
    Side,
)
from engine.ids import client_order_id
from engine.market.square_off import MisCutoffs
from engine.processing.processor import ProcessorConfig
from engine.risk import RiskLimits, RiskManager
from engine.trading_state import TradingState
from tests.helpers import eventually

BROKER = Broker.PAPER
INFY, INFY_SYMBOL = 408065, "NSE:INFY"
TCS, TCS_SYMBOL = 2953217, "NSE:TCS"
RELIANCE, RELIANCE_SYMBOL = 738561, "NSE:RELIANCE"
KNOWN = {INFY, TCS}
MON_10AM = datetime_to_ns(datetime(2024, 6, 3, 10, 0, tzinfo=IST))  # a Monday, market open

# Every limit off, so a test switches on only the one it is about.
NO_LIMITS = RiskLimits(
    max_order_quantity=None,
    max_order_value=None,
    max_position_value=None,
    max_gross_exposure=None,
    max_daily_loss=None,
    max_open_orders=None,
    price_band_pct=None,
    max_orders_per_second=None,
    enforce_market_hours=False,
    max_consecutive_rejections=None,
    mis_cutoffs=MisCutoffs({}),
)

_ids = itertools.count(1)


def limits(**overrides: Any) -> RiskLimits:
    base = {f: getattr(NO_LIMITS, f) for f in NO_LIMITS.__dataclass_fields__}
    return RiskLimits(**{**base, **overrides})


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    rule: str | None = None
    reason: str | None = None


@dataclass
class Observed:
    validated: list[Signal] = field(default_factory=list)
    rejected: list[RejectedSignal] = field(default_factory=list)
    alerts: list[RiskAlert] = field(default_factory=list)
    controls: list[ControlCommand] = field(default_factory=list)


class RiskHarness:
    def __init__(self, risk: RiskManager, bus: MemoryBus, observer: MemorySubscription) -> None:
        self.risk = risk
        self.bus = bus
        self.trading = risk.trading_state
        self.seen = Observed()
        self._nets: dict[tuple[str, int], int] = {}  # filled so far, per strategy/instrument
        self._observer = observer
        self._task = asyncio.create_task(risk.run(), name="test:risk")

    @classmethod
    async def start(
        cls,
        risk_limits: RiskLimits,
        *,
        store: Any = None,
        known: Any = None,
        instrument_of: Any = None,
        restores_working: bool = True,
    ) -> RiskHarness:
        bus = MemoryBus(partitions=2)
        risk = RiskManager(
            bus=bus,
            broker=BROKER,
            limits=risk_limits,
            trading_state=TradingState(BROKER),
            known_instruments=KNOWN if known is None else known,
            instrument_of=instrument_of,
            store=store,
            config=ProcessorConfig(poll_timeout=0.02),
        )
        risk.restores_working = restores_working
        observer = await bus.subscribe(
            [
                topics.signals_validated(BROKER),
                topics.signals_rejected(BROKER),
                topics.SYSTEM_ALERTS,
                topics.CONTROL_COMMANDS,
            ],
            "test-observer",
        )
        harness = cls(risk, bus, observer)
        await eventually(lambda: risk.status is ComponentStatus.RUNNING, message="risk not up")
        return harness

    async def close(self) -> None:
        self.risk.stop()
        await self._task
        await self._observer.aclose()

    # -- what other services emit ----------------------------------------------------
    async def _publish(self, topic: str, type_: EventType, data: AnyPayload, key: str) -> None:
        await self.bus.publish(topic, new_event(type_, data, source="test", key=key, broker=BROKER))

    async def tick(self, price: str, token: int = INFY, ts: int = MON_10AM) -> None:
        tick = make_tick(price, token, ts)
        await self._publish(topics.MARKET_TICKS, EventType.MARKET_TICK, tick, str(token))
        await self.settle()

    async def position(
        self, net: int, average: str, strategy: str = "ema", token: int = INFY
    ) -> None:
        """What the pipeline does when a position becomes ``net``: execution's FILLED
        order event for the difference, then the portfolio's position."""
        held = self._nets.get((strategy, token), 0)
        if net != held:
            side = Side.BUY if net > held else Side.SELL
            fill = make_signal(
                strategy=strategy, token=token, side=side, quantity=abs(net - held), price=average
            )
            await self.order_event(fill, OrderStatus.FILLED, filled=abs(net - held))
            self._nets[(strategy, token)] = net
        snap = position_snapshot(net, average, strategy, token)
        key = topics.order_key(BROKER, strategy, token)
        await self._publish(topics.positions(BROKER), EventType.POSITION_UPDATED, snap, key)
        await self.settle()

    async def pnl(self, realized: str, unrealized: str, charges: str = "0") -> None:
        await self.publish_pnl(pnl_snapshot(realized, unrealized, charges))

    async def publish_pnl(self, snap: PnlSnapshot) -> None:
        await self._publish(topics.pnl_snapshots(BROKER), EventType.PNL_SNAPSHOT, snap, "pnl")
        await self.settle()

    async def order_event(
        self, signal: Signal, status: OrderStatus, filled: int = 0, reason: str = ""
    ) -> None:
        """What execution emits for the order it made from ``signal``."""
        type_ = {
            OrderStatus.SUBMITTED: EventType.ORDER_SUBMITTED,
            OrderStatus.OPEN: EventType.ORDER_OPEN,
            OrderStatus.PARTIALLY_FILLED: EventType.ORDER_PARTIALLY_FILLED,
            OrderStatus.FILLED: EventType.ORDER_FILLED,
            OrderStatus.REJECTED: EventType.ORDER_REJECTED,
            OrderStatus.CANCELLED: EventType.ORDER_CANCELLED,
        }[status]
        update = order_update(signal, status, filled, reason)
        key = topics.order_key(BROKER, signal.strategy, signal.instrument_token)
        await self._publish(topics.orders_events(BROKER), type_, update, key)
        await self.settle()

    # -- signals and verdicts ----------------------------------------------------------
    async def submit(self, **fields: Any) -> Verdict:
        """Send one raw signal as the strategy runner does and wait for risk's verdict."""
        signal = make_signal(**fields)
        await self.send(signal)
        return await self.verdict(signal)

    async def send(self, signal: Signal) -> None:
        key = topics.order_key(BROKER, signal.strategy, signal.instrument_token)
        await self._publish(topics.signals_raw(BROKER), EventType.SIGNAL_RAW, signal, key)

    async def verdict(self, signal: Signal) -> Verdict:
        found: list[Verdict] = []

        async def decided() -> bool:
            await self.drain()
            if any(s.signal_id == signal.signal_id for s in self.seen.validated):
                found.append(Verdict(True))
            for rej in self.seen.rejected:
                if rej.signal.signal_id == signal.signal_id:
                    found.append(Verdict(False, rej.rule, rej.reason))
            return bool(found)

        await eventually(decided, message=f"no verdict on {signal.signal_id}")
        return found[0]

    async def settle(self) -> None:
        """Wait until risk has consumed everything published so far."""
        await eventually(lambda: self.risk.health().lag == 0, message="risk did not catch up")

    async def drain(self) -> Observed:
        records = await self._observer.fetch(1000, 0.01)
        for record in records:
            data = record.envelope.data if record.envelope else None
            if isinstance(data, Signal):
                self.seen.validated.append(data)
            elif isinstance(data, RejectedSignal):
                self.seen.rejected.append(data)
            elif isinstance(data, RiskAlert):
                self.seen.alerts.append(data)
            elif isinstance(data, ControlCommand):
                self.seen.controls.append(data)
        if records:
            await self._observer.commit(records)
        return self.seen


def make_tick(price: str, token: int = INFY, ts: int = MON_10AM) -> Tick:
    return Tick(
        instrument_token=token, symbol=_symbol(token), last_price=Decimal(price), exchange_ts=ts
    )


def order_update(
    signal: Signal, status: OrderStatus, filled: int = 0, reason: str = ""
) -> OrderUpdate:
    """What execution emits for the order it made from ``signal`` (a fill of ``filled``
    at its limit price, or 100.00 for a market order)."""
    fill = None
    if filled:
        price = signal.limit_price or Decimal(100)
        fill = Fill(trade_id=f"T{next(_ids)}", quantity=filled, price=price)
    return OrderUpdate(
        client_order_id=client_order_id(signal.signal_id),
        strategy=signal.strategy,
        broker=BROKER,
        instrument_token=signal.instrument_token,
        symbol=signal.symbol,
        side=signal.side,
        quantity=signal.quantity,
        order_type=signal.order_type,
        product=signal.product,
        status=status,
        filled_quantity=filled,
        fill=fill,
        reason=reason,
        update_ts=signal.signal_ts,
    )


def position_snapshot(
    net: int,
    average: str,
    strategy: str = "ema",
    token: int = INFY,
    last_price: str | None = None,
) -> PositionSnapshot:
    """What the portfolio publishes for one position (flat P&L)."""
    return PositionSnapshot(
        broker=BROKER,
        strategy=strategy,
        instrument_token=token,
        symbol=_symbol(token),
        net_quantity=net,
        average_price=Decimal(average),
        last_price=None if last_price is None else Decimal(last_price),
        realized_pnl=Decimal(0),
        unrealized_pnl=Decimal(0),
        charges=Decimal(0),
    )


def pnl_snapshot(
    realized: str, unrealized: str, charges: str = "0", ts: int = MON_10AM
) -> PnlSnapshot:
    """What the portfolio publishes for the account (no cash or exposure figures)."""
    return PnlSnapshot(
        broker=BROKER,
        snapshot_ts=ts,
        realized_pnl=Decimal(realized),
        unrealized_pnl=Decimal(unrealized),
        charges=Decimal(charges),
        cash=Decimal(0),
        equity=Decimal(0),
        gross_exposure=Decimal(0),
    )


def make_signal(**fields: Any) -> Signal:
    token = fields.pop("token", INFY)
    price = fields.pop("price", None)
    defaults: dict[str, Any] = {
        "signal_id": f"sig-{next(_ids)}",
        "strategy": "ema",
        "instrument_token": token,
        "symbol": _symbol(token),
        "side": Side.BUY,
        "quantity": 10,
        "order_type": OrderType.MARKET,
        "product": Product.MIS,
        "signal_ts": MON_10AM,
    }
    if price is not None:
        defaults["order_type"] = OrderType.LIMIT
        defaults["limit_price"] = Decimal(price)
    return Signal(**{**defaults, **fields})


def working_order(signal: Signal) -> OrderRecord:
    """``signal``'s order as the store holds it while it works at the venue (OPEN)."""
    return OrderRecord(
        client_order_id=client_order_id(signal.signal_id),
        broker=BROKER,
        strategy=signal.strategy,
        signal_id=signal.signal_id,
        instrument_token=signal.instrument_token,
        symbol=signal.symbol,
        side=signal.side,
        quantity=signal.quantity,
        order_type=signal.order_type,
        product=signal.product,
        status=OrderStatus.OPEN,
    )


def _symbol(token: int) -> str:
    known = {INFY: INFY_SYMBOL, TCS: TCS_SYMBOL, RELIANCE: RELIANCE_SYMBOL}
    return known.get(token, f"NSE:X{token}")
