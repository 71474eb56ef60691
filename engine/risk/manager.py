"""The risk manager: turns each raw signal into a validated or a rejected one.

It listens to the same events the rest of the pipeline produces (ticks, order lifecycle,
positions, P&L) to keep its ``RiskState`` current; only signals produce verdicts. A
daily-loss breach or a run of broker rejections halts trading automatically.

The daily loss limit counts the current trading day only (``engine.market.sessions``,
by event time: tick and signal times, the snapshot's trading day). At the next session
it resets, and a halt it caused on an earlier day lifts, unless the operator has
halted or killed since.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from typing import Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.records import (
    FillRecord,
    Instrument,
    OrderRecord,
    PositionRecord,
    RiskAlertRecord,
    TradingStateRecord,
)
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import (
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RejectedSignal,
    RiskAlert,
    Signal,
    Tick,
)
from engine.events.types import Broker, EventType, OrderStatus, TradingMode
from engine.logs.order_story import VERDICT, signal_story
from engine.market.sessions import DayWindow, TradingDays
from engine.processing.dedup import DedupStore
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.risk.alerts import (
    RISK_OPERATOR,
    alert_record,
    emit_auto_halt,
    emit_auto_reduce,
    emit_auto_resume,
    loss_halt_day,
    loss_halt_reason,
    refusal_record,
    rejection_alert,
)
from engine.risk.limits import RiskLimits
from engine.risk.rules import RULES, Rule, RuleContext, active_rules, evaluate, rupees
from engine.risk.state import RiskState
from engine.trading_state.state import GLOBAL_SCOPE, TradingState

log = logging.getLogger("alphapanda.risk")

_WORKING = [s for s in OrderStatus if s.is_working]


class RiskStore(Protocol):
    """The slice of the storage port risk uses: alerts out, the book in at start."""

    async def add_alert(self, alert: RiskAlertRecord) -> None: ...

    async def list_positions(self, broker: Broker) -> list[PositionRecord]: ...

    async def list_fills(self, broker: Broker) -> list[FillRecord]: ...

    async def list_orders(
        self, broker: Broker, statuses: list[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...


class RiskManager(StreamProcessor):
    """Pre-trade checks for one broker; paper and zerodha each run their own."""

    def __init__(
        self,
        *,
        bus: EventBus,
        broker: Broker,
        limits: RiskLimits,
        trading_state: TradingState,
        known_instruments: Callable[[int], bool] | Collection[int],
        instrument_of: Callable[[int], Instrument | None] | None = None,
        store: RiskStore | None = None,
        rules: tuple[Rule, ...] = RULES,
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        name = f"risk.{broker.value}"
        super().__init__(
            name=name,
            bus=bus,
            # State topics first: in one fetch, the book is brought up to date before
            # the signals in it are judged.
            input_topics=[
                topics.MARKET_TICKS,
                topics.orders_events(broker),
                topics.positions(broker),
                topics.pnl_snapshots(broker),
                topics.signals_raw(broker),
            ],
            group=name,
            config=config,
            dedup=dedup,
            clock=clock,
        )
        if trading_state.broker is not broker:
            raise ValueError(f"trading state is for {trading_state.broker}, risk for {broker}")
        self.broker = broker
        self.limits = limits
        self.trading_state = trading_state
        self.store = store
        self.rules = rules
        self.state = RiskState()
        is_known = (
            known_instruments if callable(known_instruments) else known_instruments.__contains__
        )
        self._ctx = RuleContext(
            limits,
            self.state,
            trading_state,
            is_known,
            instrument_of or (lambda _token: None),
        )
        self._loss_halted = False
        self._loss_halt_day = ""  # the trading day risk last halted for the daily loss
        self._resumed = False  # the operator resumed: REDUCING may be due (``_hold_loss_halt``)
        trading_state.subscribe(self._on_trading_state)
        self._days = TradingDays(limits.calendar)
        self._day: DayWindow | None = None
        self._day_end = 0  # UTC ns: an event at or after it opens the next trading day
        self._rules_given = rules
        self._rules_active = active_rules(rules, limits)
        # False when the venue's book ends with the process (paper): its working orders
        # are being cancelled by execution's start (all but the unsent PENDING ones), and
        # counting them would let a stale order on the other side make room for a new one
        # (set by the pipeline)
        self.restores_working = True
        self._validated_topic = topics.signals_validated(broker)
        self._rejected_topic = topics.signals_rejected(broker)

    async def on_start(self) -> None:
        if self.store is None:
            return
        positions = await self.store.list_positions(self.broker)
        # a venue whose book ended with the last process: only the outbox's unsent orders
        # (PENDING) still go out (execution sends them on start); the rest are cancelled
        statuses = _WORKING if self.restores_working else [OrderStatus.PENDING]
        orders = await self.store.list_orders(self.broker, statuses=statuses, limit=10_000)
        self.state.restore(positions, orders, await self.store.list_fills(self.broker))

    def handle_now(self, envelope: EventEnvelope) -> bool:
        """State updates that emit nothing, done without an ``Emitter``: see ``_apply_quietly``.

        A tick inside the trading day only moves the last price: done here, without the
        calls of ``_apply_quietly``'s tick step (every tick of every instrument comes here).
        """
        data = envelope.data
        if type(data) is Tick and data.exchange_ts < self._day_end and not self._resumed:
            self.state.last_prices[data.instrument_token] = data.last_price
            return True
        return self._apply_quietly(data)

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        data = envelope.data
        if isinstance(data, Signal):
            await self._observe(data.signal_ts, out)
            await self._judge(envelope, data, out)
        elif self._apply_quietly(data):
            return
        elif isinstance(data, Tick):
            await self._observe(data.exchange_ts, out)
            self.state.apply_tick(data)
            await self._hold_loss_halt(out, data.exchange_ts)
        elif isinstance(data, OrderUpdate):
            await self._apply_order_update(data, out)
        elif isinstance(data, PnlSnapshot):
            if data.trading_day > self.state.trading_day:
                window = self._days.window_of(date.fromisoformat(data.trading_day))
                await self._open_day(window, data.event_ts or window.start_ns, out)
            await self._apply_pnl(data, out)

    def _apply_quietly(self, data: object) -> bool:
        """Apply a state event that needs no output; False (nothing applied) when it does.

        The one apply step per event type, for both handlers. A tick only updates the
        last price and a position only the book. An order event or a P&L snapshot is
        applied here unless it trips an automatic halt; a tick that opens a trading day
        or meets an operator's resume, and a snapshot of a new day, are left for
        ``handle`` too: those emit.
        """
        if isinstance(data, Tick):
            if data.exchange_ts >= self._day_end or self._resumed:
                return False
            self.state.apply_tick(data)
            return True
        if isinstance(data, OrderUpdate):
            if self._rejections_trip(data):
                return False
            self.state.apply_order_update(data)
            return True
        if isinstance(data, PositionSnapshot):
            self.state.apply_position(data)
            return True
        if isinstance(data, PnlSnapshot):
            if data.trading_day > self.state.trading_day or self._loss_trips(data):
                return False
            self._note_loss(self.state.apply_pnl(data))
            return True
        return False

    # -- trading days -------------------------------------------------------------
    async def _observe(self, ts_ns: int, out: Emitter) -> None:
        """Open the trading day of event time ``ts_ns`` when it is a later one."""
        if ts_ns >= self._day_end:
            await self._open_day(self._days.window(ts_ns), ts_ns, out)

    async def _open_day(self, window: DayWindow, ts_ns: int, out: Emitter) -> None:
        """A new session: the daily loss limit re-arms and yesterday's loss halt lifts."""
        if self._day is not None and window.start_ns <= self._day.start_ns:
            return
        self._day, self._day_end = window, window.end_ns
        self.state.new_day(window.label)
        self._loss_halted = False
        await self._lift_loss_halt(out, ts_ns)

    async def _lift_loss_halt(self, out: Emitter, ts_ns: int) -> None:
        """Resume when trading is halted by risk's daily-loss halt of an earlier day.

        Only that halt: one by the operator, or a kill, has another reason and operator.
        """
        record = self.trading_state.record(GLOBAL_SCOPE)
        if record is None or record.mode is TradingMode.ACTIVE:
            return
        if record.operator != RISK_OPERATOR:
            return
        halted_on = loss_halt_day(record.reason)
        today = self.state.trading_day
        if halted_on is None or not halted_on < today:
            return
        reason = (
            f"new trading day {today}: the daily loss limit resets "
            f"(halted on {halted_on} by the daily loss limit)"
        )
        alert = emit_auto_resume(
            out,
            self.trading_state,
            rule="daily_loss",
            reason=reason,
            lifts=record.reason,
            ts_ns=ts_ns,
        )
        log.warning("automatic resume: %s", reason, extra={"rule": "daily_loss", "reason": reason})
        await self._persist(alert)

    async def _judge(self, envelope: EventEnvelope, signal: Signal, out: Emitter) -> None:
        token = signal.instrument_token
        key = envelope.key or topics.order_key(self.broker, signal.strategy, token)
        if self.trading_state.scope_mode(GLOBAL_SCOPE) is not TradingMode.ACTIVE:
            # A halt restored after this day opened (a restart) may be yesterday's.
            await self._lift_loss_halt(out, signal.signal_ts)
        else:
            self._resumed = True  # on every signal too: a restored state has no listener call
            await self._hold_loss_halt(out, signal.signal_ts)
        rules = self.rules
        if rules is not self._rules_given:  # filter once per rule set (``rules`` is public)
            self._rules_given = rules
            self._rules_active = active_rules(rules, self._ctx.limits)
        rejection = evaluate(signal, self._ctx, self._rules_active)
        if rejection is None:
            self.state.record_validated(signal)
            out.emit(
                self._validated_topic,
                EventType.SIGNAL_VALIDATED,
                signal,
                key=key,
                broker=self.broker,
            )
            signal_story(VERDICT, signal, status="APPROVED", broker=self.broker.value)
            return
        rejected = RejectedSignal(signal=signal, rule=rejection.rule, reason=rejection.reason)
        out.emit(
            self._rejected_topic,
            EventType.SIGNAL_REJECTED,
            rejected,
            key=key,
            broker=self.broker,
        )
        alert = rejection_alert(signal, rejection.rule, rejection.reason, self.broker)
        out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, key=key, broker=self.broker)
        log.info(
            "signal rejected by %s: %s",
            rejection.rule,
            alert.message,
            extra={
                "signal_id": signal.signal_id,
                "correlation_id": signal.signal_id,
                "symbol": signal.symbol,
                "rule": rejection.rule,
                "reason": alert.message,
            },
        )
        signal_story(
            VERDICT,
            signal,
            status="REJECTED",
            broker=self.broker.value,
            reason=rejection.reason,
            rule=rejection.rule,
        )
        if self.store is not None:  # with what it refused: the books list it after a restart
            await self.store.add_alert(refusal_record(alert, rejected))

    def _rejections_trip(self, update: OrderUpdate) -> bool:
        """Applying ``update`` reaches the consecutive-rejections limit."""
        limit = self.limits.max_consecutive_rejections
        return limit is not None and self.state.rejections_after(update) >= limit

    async def _apply_order_update(self, update: OrderUpdate, out: Emitter) -> None:
        trips = self._rejections_trip(update)
        self.state.apply_order_update(update)
        if not trips:
            return
        limit = self.limits.max_consecutive_rejections
        count = self.state.consecutive_rejections
        self.state.consecutive_rejections = 0
        if self.trading_state.effective(update.strategy) is TradingMode.HALTED:
            return  # refused because trading is halted (the kill switch): not the broker's doing
        reason = (
            f"{count} orders in a row rejected by the broker (limit {limit}); "
            f"last: {update.symbol} {update.reason or 'no reason given'}"
        )
        await self._halt(out, "consecutive_rejections", reason, update.update_ts)

    def _loss_trips(self, snap: PnlSnapshot) -> bool:
        """``snap`` crosses the daily loss limit while trading is not already halted for it."""
        limit = self.limits.max_daily_loss
        return (
            limit is not None
            and not self._loss_halted
            and not self.state.is_stale(snap)
            and RiskState.day_pnl_of(snap) <= -limit
        )

    def _note_loss(self, day_pnl: Decimal | None) -> None:
        """Remember whether the limit is breached: it re-arms once P&L recovers above it,
        or at the next session. A stale snapshot (None) changes nothing."""
        limit = self.limits.max_daily_loss
        if limit is not None and day_pnl is not None:
            self._loss_halted = day_pnl <= -limit

    async def _apply_pnl(self, snap: PnlSnapshot, out: Emitter) -> None:
        trips = self._loss_trips(snap)
        day_pnl = self.state.apply_pnl(snap)
        if trips and day_pnl is not None:
            limit = self.limits.max_daily_loss
            assert limit is not None
            realized = snap.realized_pnl if snap.day_realized_pnl is None else snap.day_realized_pnl
            unrealized = (
                snap.unrealized_pnl if snap.day_unrealized_pnl is None else snap.day_unrealized_pnl
            )
            charges = snap.charges if snap.day_charges is None else snap.day_charges
            # The two figures a trader compares first: the header shows the reason on one
            # line, and the limit at its end was cut off at 120 columns.
            detail = (
                f"day P&L {rupees(day_pnl)} vs limit -{rupees(limit)} "
                f"(realized {rupees(realized)}, unrealized {rupees(unrealized)}, "
                f"charges {rupees(charges)})"
            )
            reason = loss_halt_reason(snap.trading_day, detail)
            self._loss_halt_day = snap.trading_day or self.state.trading_day
            await self._halt(out, "daily_loss", reason, snap.event_ts or snap.snapshot_ts)
        self._note_loss(day_pnl)

    # -- a loss halt holds for the day ---------------------------------------------------
    def _on_trading_state(self, record: TradingStateRecord, _previous: TradingMode) -> None:
        """Note an operator's resume; the next tick or signal decides (it has an emitter)."""
        if record.scope == GLOBAL_SCOPE and record.mode is TradingMode.ACTIVE:
            self._resumed = True

    async def _hold_loss_halt(self, out: Emitter, ts_ns: int) -> None:
        """After a resume on a day the daily loss limit halted (or while it is breached),
        trading is REDUCING until the next session: exits pass, entries wait, and the
        state every screen shows says so."""
        if not self._resumed:
            return
        self._resumed = False
        limit = self.limits.max_daily_loss
        record = self.trading_state.record(GLOBAL_SCOPE)
        if limit is None or record is None or record.mode is not TradingMode.ACTIVE:
            return
        today = self.state.trading_day
        if not (self._loss_halted or (today and self._loss_halt_day == today)):
            return
        pnl = self.state.day_pnl
        now = f"day P&L {rupees(pnl)} " if pnl is not None else ""
        detail = (
            f"{now}vs limit -{rupees(limit)}, still breached after the resume; "
            "only orders that reduce a position are allowed"
        )
        reason = loss_halt_reason(self._loss_halt_day or today, detail)
        alert = emit_auto_reduce(
            out, self.trading_state, reason=reason, after=record.reason, ts_ns=ts_ns
        )
        log.warning("automatic reduce", extra={"rule": "daily_loss", "reason": reason})
        await self._persist(alert)

    async def _halt(self, out: Emitter, rule: str, reason: str, ts_ns: int) -> None:
        alert = emit_auto_halt(out, self.trading_state, rule=rule, reason=reason, ts_ns=ts_ns)
        log.critical(
            "automatic halt (%s): %s", rule, reason, extra={"rule": rule, "reason": reason}
        )
        await self._persist(alert)

    async def _persist(self, alert: RiskAlert) -> None:
        if self.store is not None:
            await self.store.add_alert(alert_record(alert))
