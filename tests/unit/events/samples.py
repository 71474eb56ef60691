"""One valid sample payload per payload class, for codec and pipeline tests."""

from __future__ import annotations

from decimal import Decimal

from engine.events.payloads import (
    AlertsAcknowledged,
    ComponentHealth,
    ControlCommand,
    DeadLetter,
    DepthLevel,
    Fill,
    FundsSnapshot,
    HealthReport,
    OrderCommand,
    OrderIntent,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    ProtectionCommand,
    ProtectionState,
    ReconciliationDiff,
    RejectedSignal,
    RiskAlert,
    Signal,
    Tick,
    TradingStateChanged,
)
from engine.events.types import (
    Broker,
    ComponentStatus,
    ControlAction,
    OrderCommandAction,
    OrderStatus,
    OrderType,
    Product,
    Severity,
    Side,
    TradingMode,
)

P = Broker.PAPER


def tick(token: int = 256265, price: str = "22000.05", ts: int = 1) -> Tick:
    return Tick(
        instrument_token=token,
        symbol="NSE:NIFTY 50",
        last_price=Decimal(price),
        exchange_ts=ts,
        bid=Decimal("22000.00"),
        depth_buy=(DepthLevel(Decimal("22000.00"), 75, 3),),
    )


SIGNAL = Signal(
    signal_id="sig-1",
    strategy="momentum",
    instrument_token=738561,
    symbol="NSE:RELIANCE",
    side=Side.BUY,
    quantity=10,
    limit_price=Decimal("2950.10"),
)
POSITION = PositionSnapshot(
    broker=P,
    strategy="momentum",
    instrument_token=738561,
    symbol="NSE:RELIANCE",
    net_quantity=10,
    average_price=Decimal("2950.10"),
    last_price=Decimal("2951.00"),
    realized_pnl=Decimal("0"),
    unrealized_pnl=Decimal("9.00"),
    charges=Decimal("1.20"),
)
UPDATE = OrderUpdate(
    client_order_id="AP123",
    strategy="momentum",
    broker=P,
    instrument_token=738561,
    symbol="NSE:RELIANCE",
    side=Side.BUY,
    quantity=10,
    order_type=OrderType.LIMIT,
    product=Product.MIS,
    status=OrderStatus.FILLED,
    filled_quantity=10,
    fill=Fill(trade_id="T1", quantity=10, price=Decimal("2950.10")),
)

SAMPLES: dict[type, object] = {
    Tick: tick(),
    Signal: SIGNAL,
    RejectedSignal: RejectedSignal(signal=SIGNAL, rule="max_qty", reason="too large"),
    OrderIntent: OrderIntent(
        client_order_id="AP123",
        signal_id="sig-1",
        strategy="momentum",
        broker=P,
        instrument_token=738561,
        symbol="NSE:RELIANCE",
        side=Side.BUY,
        quantity=10,
        order_type=OrderType.LIMIT,
        product=Product.MIS,
        price=Decimal("2950.10"),
    ),
    OrderUpdate: UPDATE,
    OrderCommand: OrderCommand(action=OrderCommandAction.CANCEL, broker=P, client_order_id="AP1"),
    PositionSnapshot: POSITION,
    PnlSnapshot: PnlSnapshot(
        broker=P,
        snapshot_ts=5,
        realized_pnl=Decimal("0"),
        unrealized_pnl=Decimal("9.00"),
        charges=Decimal("1.20"),
        cash=Decimal("100000"),
        equity=Decimal("100007.80"),
        gross_exposure=Decimal("29501.00"),
        positions=(POSITION,),
    ),
    RiskAlert: RiskAlert(severity=Severity.WARNING, rule="daily_loss", message="near limit"),
    AlertsAcknowledged: AlertsAcknowledged(
        alerts=(RiskAlert(severity=Severity.CRITICAL, rule="kill_switch", message="HALTED"),),
        operator="trader@desk",
        ack_ts=1,
    ),
    HealthReport: HealthReport(
        reporter="engine",
        components=(ComponentHealth(name="risk", status=ComponentStatus.RUNNING),),
    ),
    ControlCommand: ControlCommand(action=ControlAction.KILL, flatten=True, operator="ops"),
    TradingStateChanged: TradingStateChanged(
        scope="global", mode=TradingMode.HALTED, previous=TradingMode.ACTIVE
    ),
    ProtectionCommand: ProtectionCommand(
        broker=P, strategy="manual", instrument_token=738561, stop_pct=Decimal("1.5")
    ),
    ProtectionState: ProtectionState(
        broker=P,
        strategy="manual",
        instrument_token=738561,
        symbol="NSE:RELIANCE",
        stop=Decimal("2905.85"),
        trail=Decimal("2940.00"),
        best_price=Decimal("2960.00"),
    ),
    FundsSnapshot: FundsSnapshot(
        broker=P,
        available=Decimal("98112.50"),
        used=Decimal("1887.50"),
        source="paper",
        as_of_ns=5,
    ),
    ReconciliationDiff: ReconciliationDiff(
        broker=P, subject="order", key="AP1", local="OPEN", remote="FILLED", message="drift"
    ),
    DeadLetter: DeadLetter(
        source_topic="market.ticks", error="boom", attempts=3, processor="risk", original=b"\x81"
    ),
}
