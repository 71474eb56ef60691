"""Typed, frozen event payloads (msgspec). Prices are Decimal on tick-size multiples.

Each payload is a tagged ``msgspec.Struct`` so that the codec can validate a decoded
envelope's ``data`` against its ``type`` at every boundary.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

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
    Validity,
)


class Payload(
    msgspec.Struct, frozen=True, tag_field="kind", kw_only=True, omit_defaults=True, gc=False
):
    """Base of every payload; ``kind`` names the concrete struct on the wire.

    Frozen with immutable fields only, so never in a reference cycle: ``gc=False`` keeps
    the cyclic GC from scanning every retained event.
    """


class DepthLevel(msgspec.Struct, frozen=True, array_like=True, gc=False):
    price: Decimal
    quantity: int
    orders: int = 0


class Tick(Payload, frozen=True, tag="tick"):
    """A market tick: the full quote, not just the last price."""

    instrument_token: int
    symbol: str  # "EXCHANGE:TRADINGSYMBOL"
    last_price: Decimal
    exchange_ts: int  # UTC ns (Kite sends naive Asia/Kolkata time; converted at the boundary)
    last_quantity: int = 0
    volume: int = 0
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_quantity: int = 0
    ask_quantity: int = 0
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    oi: int | None = None
    depth_buy: tuple[DepthLevel, ...] = ()
    depth_sell: tuple[DepthLevel, ...] = ()


class Signal(Payload, frozen=True, tag="signal"):
    """A strategy's wish to trade; risk turns it into a validated or rejected signal."""

    signal_id: str
    strategy: str
    instrument_token: int
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.MIS
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    reference_price: Decimal | None = None  # last price the strategy saw
    signal_ts: int = 0  # event time (tick exchange time), UTC ns
    reason: str = ""
    validity: Validity | None = None  # None: execution's default (a manual ticket sets it)


class RejectedSignal(Payload, frozen=True, tag="rejected_signal"):
    signal: Signal
    rule: str
    reason: str


class OrderIntent(Payload, frozen=True, tag="order_intent"):
    """An order about to be sent: already in the outbox under its client order id."""

    client_order_id: str
    signal_id: str
    strategy: str
    broker: Broker
    instrument_token: int
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    validity: Validity = Validity.DAY
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    created_ts: int = 0
    # Event time the order exists from: a simulated venue never fills it on an older tick.
    not_before_ts: int = 0


class Fill(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One trade against an order; ``trade_id`` is unique per broker, so never counted twice."""

    trade_id: str
    quantity: int
    price: Decimal
    charges: Decimal = Decimal("0")
    fill_ts: int = 0


class OrderUpdate(Payload, frozen=True, tag="order_update"):
    """An order lifecycle change; carries the fill when one happened."""

    client_order_id: str
    strategy: str
    broker: Broker
    instrument_token: int
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType
    product: Product
    status: OrderStatus
    filled_quantity: int = 0
    average_price: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    broker_order_id: str | None = None
    fill: Fill | None = None
    reason: str = ""
    update_ts: int = 0


class OrderCommand(Payload, frozen=True, tag="order_command"):
    """An operator or system request to cancel, modify or flatten."""

    action: OrderCommandAction
    broker: Broker
    client_order_id: str | None = None
    strategy: str | None = None
    quantity: int | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    reason: str = ""
    instrument_token: int | None = None  # a square-off of this instrument only


class DayFigures(msgspec.Struct, frozen=True, kw_only=True):
    """The current trading day's part (``engine.market.sessions``) of a position's or an
    account's P&L: realized and charges of today's fills, unrealized as its change since
    the session began (carried positions from the previous close).

    Absent ("", None) from a producer, or in a row stored, before day figures existed:
    ``day_pnl`` is then None (``PnlSnapshot.day_pnl`` falls back to the overall figures).
    Declared once for the position and P&L snapshots and the stored snapshot, so a day
    figure added here reaches all three; keyword-only, so these fields follow the
    inheriting struct's own on the wire.
    """

    trading_day: str = ""  # ISO date of the session, by event time
    day_realized_pnl: Decimal | None = None
    day_unrealized_pnl: Decimal | None = None
    day_charges: Decimal | None = None

    @property
    def day_pnl(self) -> Decimal | None:
        """Today's realized + unrealized − today's charges; None when not carried."""
        realized, unrealized, charges = (
            self.day_realized_pnl,
            self.day_unrealized_pnl,
            self.day_charges,
        )
        if realized is None or unrealized is None or charges is None:
            return None
        return realized + unrealized - charges


class PositionSnapshot(Payload, DayFigures, frozen=True, tag="position"):
    """One position; its day figures are its part of its snapshot's (``PnlSnapshot``), so
    the rows a console shows add up to the day P&L."""

    broker: Broker
    strategy: str
    instrument_token: int
    symbol: str
    net_quantity: int
    average_price: Decimal
    last_price: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    charges: Decimal
    day_change: Decimal | None = None
    # Its last fill's time, which says whether a flat row closed today.
    updated_ts: int = 0


class PnlFigures(DayFigures, frozen=True):
    """One broker's P&L at one time, overall and for the trading day: declared once for
    the snapshot on the bus (``PnlSnapshot``) and the stored one
    (``engine.domain.records.PnlSnapshotRecord``), so a figure added here reaches both."""

    broker: Broker
    snapshot_ts: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    charges: Decimal
    cash: Decimal
    equity: Decimal
    gross_exposure: Decimal
    # The newest tick or fill time the book had seen, UTC ns: the snapshot's time on the
    # market's clock (``snapshot_ts`` is the process's clock); 0 when not known.
    event_ts: int = 0


class PnlSnapshot(Payload, PnlFigures, frozen=True, tag="pnl_snapshot"):
    positions: tuple[PositionSnapshot, ...] = ()

    @property
    def day_pnl(self) -> Decimal:
        """Day P&L as a trader counts it: today's realized + unrealized − today's charges.

        The overall figures for a snapshot without day fields (an older producer).
        """
        day = super().day_pnl
        if day is None:
            return self.realized_pnl + self.unrealized_pnl - self.charges
        return day


class AlertFields(msgspec.Struct, frozen=True):
    """What every risk alert says: how bad, which rule, the words, and where (None: not
    one broker, strategy or symbol). Declared once for the alert on the bus
    (``RiskAlert``) and the stored one (``engine.domain.records.RiskAlertRecord``)."""

    severity: Severity
    rule: str
    message: str
    broker: Broker | None = None
    strategy: str | None = None
    symbol: str | None = None


class RiskAlert(Payload, AlertFields, frozen=True, tag="risk_alert"):
    alert_ts: int = 0


class AlertsAcknowledged(Payload, frozen=True, tag="alerts_acknowledged"):
    """An operator has read these pinned CRITICAL alerts: every console unpins them, and
    the read-model cache stops offering them to consoles that start later. Each one is the
    newest alert of its line, at the time its source gave it (what a repeat is judged by:
    one raised later pins again)."""

    alerts: tuple[RiskAlert, ...]
    operator: str = ""
    ack_ts: int = 0


class ComponentHealth(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    name: str
    status: ComponentStatus
    detail: str = ""
    lag: int = 0
    dlq_count: int = 0
    processed: int = 0
    last_event_ts: int | None = None


class HealthReport(Payload, frozen=True, tag="health"):
    reporter: str
    components: tuple[ComponentHealth, ...]
    report_ts: int = 0


class ControlCommand(Payload, frozen=True, tag="control_command"):
    """Operator intent: halt, resume, reduce or kill; carries who asked, for the audit log."""

    action: ControlAction
    strategy: str | None = None  # None means global
    flatten: bool = False
    operator: str = ""
    reason: str = ""
    # A conditional command: applied only while the scope's state still has this reason
    # (or already is what the command makes it), so an automatic lift never undoes a
    # later halt or kill by the operator.
    if_reason: str | None = None


class TradingStateChanged(Payload, frozen=True, tag="trading_state"):
    scope: str  # "global" or a strategy name
    mode: TradingMode
    previous: TradingMode
    reason: str = ""
    operator: str = ""
    changed_ts: int = 0


class ReconciliationDiff(Payload, frozen=True, tag="reconciliation_diff"):
    broker: Broker
    subject: str  # "order", "trade", "position"
    key: str
    local: str
    remote: str
    message: str


class ProtectionLevels(msgspec.Struct, frozen=True, gc=False):
    """What a trader sets on a position: each level an absolute price or a percent (of the
    average price; the trail of the best price since), or None for not set.

    Declared once for the trader's input, the command that carries it and the protection
    the engine keeps (``engine.protection.levels.Protection``), so a level added here
    reaches all three.
    """

    stop_price: Decimal | None = None
    stop_pct: Decimal | None = None
    target_price: Decimal | None = None
    target_pct: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_pct: Decimal | None = None


class ProtectionCommand(
    Payload, ProtectionLevels, frozen=True, kw_only=True, tag="protection_command"
):
    """Set (replacing what was set) or clear the stop-loss, target and trailing stop of one
    (strategy, instrument) position; each an absolute price or a percent (see
    ``engine.protection``). Carries who asked, for the audit trail."""

    broker: Broker
    strategy: str
    instrument_token: int
    clear: bool = False
    operator: str = ""


class ProtectionState(Payload, frozen=True, tag="protection"):
    """A position's protection as the engine keeps it, with the trigger prices now, for
    consoles; ``removed`` (with the reason) once it is gone."""

    broker: Broker
    strategy: str
    instrument_token: int
    symbol: str
    stop: Decimal | None = None
    target: Decimal | None = None
    trail: Decimal | None = None
    best_price: Decimal | None = None
    fired: str = ""
    removed: bool = False
    reason: str = ""
    updated_ts: int = 0


class FundsSnapshot(Payload, frozen=True, tag="funds"):
    """The account's funds as the process holding the venue last read them (paper: the
    funds model; live: Kite's ``margins()``), for consoles attached from elsewhere;
    ``as_of_ns`` orders them, so a late copy never replaces newer figures."""

    broker: Broker
    available: Decimal
    used: Decimal
    source: str
    as_of_ns: int


class DeadLetter(Payload, frozen=True, tag="dead_letter"):
    """A message that could not be handled: kept whole with the reason, never dropped."""

    source_topic: str
    error: str
    attempts: int
    processor: str
    original: bytes  # the original envelope, encoded
    original_key: str | None = None


AnyPayload = (
    Tick
    | Signal
    | RejectedSignal
    | OrderIntent
    | OrderUpdate
    | OrderCommand
    | PositionSnapshot
    | PnlSnapshot
    | RiskAlert
    | AlertsAcknowledged
    | HealthReport
    | ControlCommand
    | TradingStateChanged
    | ReconciliationDiff
    | ProtectionCommand
    | ProtectionState
    | FundsSnapshot
    | DeadLetter
)
