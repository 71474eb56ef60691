"""``ReadModel``: the bounded, in-memory picture of the engine that a console draws.

Every event is applied in O(1) (ticks arrive at thousands per second) and bumps
``version`` plus the version of the section it touched, so a UI polling on a timer
redraws only the panels whose data changed and never more often than it polls.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec

from engine.clock import NS_PER_S
from engine.domain.projection import project
from engine.events.payloads import (
    AlertsAcknowledged,
    ComponentHealth,
    HealthReport,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    ProtectionState,
    RejectedSignal,
    RiskAlert,
    Tick,
    TradingStateChanged,
)
from engine.events.types import TradingMode
from engine.execution.funds import Funds
from engine.market.sessions import TradingDays
from engine.read_model.alerts import AlertBook, AlertLine
from engine.read_model.books import DayBooks, RiskRejection, TradeLine, order_book_rows
from engine.read_model.run_clock import RunClock
from engine.read_model.views import AccountView, PositionView, SessionInfo, StrategyInfo
from engine.trading_state.state import GLOBAL_SCOPE, effective_mode

ZERO = Decimal("0")
# How far an alert's time may be from the newest tick and still be taken for the run's
# clock (event time) rather than the wall clock: a queue's lag, not a session's hours.
RUN_CLOCK_SLACK_NS = 10 * 60 * NS_PER_S

# Unread messages above which an attached console says it is catching up (a few batches
# of ticks are normal between two polls).
CATCH_UP_LAG = 200

if TYPE_CHECKING:
    from engine.market.feeds.paced_replay import ReplayStatus

POSITIONS = "positions"
ORDERS = "orders"
ALERTS = "alerts"
PNL = "pnl"
HEALTH = "health"
TRADING = "trading"
STRATEGIES = "strategies"
SESSION = "session"
MARKET = "market"
FEED = "feed"
FUNDS = "funds"
TRADES = "trades"  # the trade book (fills); an order's status history moves ORDERS
REJECTIONS = "rejections"  # orders refused by pre-trade risk (never sent)
SECTIONS: tuple[str, ...] = (
    POSITIONS,
    ORDERS,
    ALERTS,
    PNL,
    HEALTH,
    TRADING,
    STRATEGIES,
    SESSION,
    MARKET,
    FEED,
    FUNDS,
    TRADES,
    REJECTIONS,
)


class ReadModel:
    """Latest positions, prices, orders, alerts, P&L, health and trading states; bounded."""

    def __init__(
        self,
        *,
        max_terminal_orders: int = 200,
        max_alerts: int = 200,
        equity_points: int = 300,
        clock: RunClock | None = None,
    ) -> None:
        self.clock = clock or RunClock()
        self.days = TradingDays(self.clock.calendar)
        self._monotonic = self.clock.monotonic_ns
        self.version = 0
        self.sections: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self.positions: dict[tuple[str, int], PositionSnapshot] = {}
        # each position's stop-loss, target and trailing stop, as the engine keeps them
        self.protections: dict[tuple[str, int], ProtectionState] = {}
        self.ltp: dict[int, Decimal] = {}
        self.closes: dict[int, Decimal] = {}
        self.orders: dict[str, OrderUpdate] = {}
        self.books = DayBooks()  # each order's status history and the day's fills
        self._terminal_ids: deque[str] = deque()
        self.max_terminal_orders = max_terminal_orders
        self.alerts: deque[RiskAlert] = deque(maxlen=max_alerts)  # as they came, newest first
        self.alert_book = AlertBook(max_lines=max_alerts)  # collapsed, critical pinned
        self.pnl: PnlSnapshot | None = None
        self.equity_history: deque[float] = deque(maxlen=equity_points)
        self.components: dict[str, ComponentHealth] = {}
        self.health_ts = 0
        # time.monotonic_ns() when each component's last report arrived: a dead engine or
        # a stopped broker sends none, and its last "running" must not read as live. The
        # real clock, not the run's: a paced replay's moves 60x while reports come each second
        self.health_arrival_ns: dict[str, int] = {}
        self.health_monotonic_ns: Callable[[], int] = time.monotonic_ns
        # this machine's wall clock: an alert stamped near it is taken for wall time
        self.wall_ns: Callable[[], int] = time.time_ns
        self.trading_states: dict[str, TradingMode] = {GLOBAL_SCOPE: TradingMode.ACTIVE}
        self.trading_reasons: dict[str, str] = {}
        self.strategies: dict[str, StrategyInfo] = {}
        self.session = SessionInfo()
        self.funds: Funds | None = None  # the venue's funds (paper model or Kite's margins)
        self.last_tick_ns: int | None = None  # event time of the newest tick
        self.last_tick_arrival_ns: int | None = None  # clock.monotonic_ns() when it arrived
        self.event_ns: int | None = None  # the latest event time any tick carried
        self.ticks_seen = 0
        self.replay: ReplayStatus | None = None  # a paced replay of a recorded day, else None
        # an attached console's unread messages on the bus (its reader's lag), else None
        self.bus_lag: Callable[[], int] | None = None
        self._held: dict[int, int] = {}  # instrument token → positions holding it
        self._tick_ns: dict[int, int] = {}  # instrument token → its newest tick's time

    # -- bookkeeping ------------------------------------------------------------
    def _touch(self, section: str) -> None:
        self.version += 1
        self.sections[section] += 1

    # -- events -----------------------------------------------------------------
    def apply_tick(self, tick: Tick) -> None:
        """Record the last price; touches positions only when the instrument is held."""
        token = tick.instrument_token
        self.ltp[token] = tick.last_price
        if tick.close is not None:
            self.closes[token] = tick.close
        ts = tick.exchange_ts
        self._tick_ns[token] = ts
        self.last_tick_ns = ts
        self.last_tick_arrival_ns = self._monotonic()
        if self.event_ns is None or ts > self.event_ns:
            self.event_ns = ts
        self.ticks_seen += 1
        self._touch(POSITIONS if token in self._held else FEED)

    def apply_order(self, update: OrderUpdate) -> None:
        """Keep the newest update per order: every working order and the last N finished."""
        current = self.orders.get(update.client_order_id)
        if self.books.record_fill(update):  # a late update still carries its fill
            self._touch(TRADES)
        if current is not None and _is_stale(update, current):
            return  # an older update redelivered late
        self.books.record_step(update)
        self.orders[update.client_order_id] = update
        if update.status.is_terminal and (current is None or not current.status.is_terminal):
            self._terminal_ids.append(update.client_order_id)
            while len(self._terminal_ids) > self.max_terminal_orders:
                old = self._terminal_ids.popleft()
                stale = self.orders.get(old)
                if stale is not None and stale.status.is_terminal:
                    del self.orders[old]
        self._touch(ORDERS)

    def apply_rejection(self, rejected: RejectedSignal) -> None:
        """A signal risk refused: the orders book lists it as REJECTED with the reason."""
        if self.books.record_rejection(rejected):
            self._touch(REJECTIONS)

    def apply_stored_rejections(self, rejections: Iterable[RiskRejection]) -> None:
        """Risk refusals read from the store at start; one already in the book stays once."""
        added = [self.books.add_rejection(rejection) for rejection in rejections]
        if any(added):
            self._touch(REJECTIONS)

    def apply_trades(self, trades: Iterable[TradeLine]) -> None:
        """Fills read from the store at start; one already in the book is not counted twice."""
        added = [self.books.add_trade(trade) for trade in trades]
        if any(added):
            self._touch(TRADES)

    def apply_position(self, position: PositionSnapshot) -> None:
        key = (position.strategy, position.instrument_token)
        if key not in self.positions:
            self._held[position.instrument_token] = self._held.get(position.instrument_token, 0) + 1
        self.positions[key] = position
        if position.last_price is not None and position.instrument_token not in self.ltp:
            self.ltp[position.instrument_token] = position.last_price
        self._touch(POSITIONS)

    def apply_protection(self, state: ProtectionState) -> None:
        """A position's protection as the engine keeps it; a removed one is forgotten."""
        key = (state.strategy, state.instrument_token)
        if state.removed:
            self.protections.pop(key, None)
        else:
            self.protections[key] = state
        self._touch(POSITIONS)

    def apply_pnl(self, snapshot: PnlSnapshot) -> None:
        self.pnl = snapshot
        self.equity_history.append(float(snapshot.equity))
        for position in snapshot.positions:
            self.apply_position(position)
        self._touch(PNL)

    def apply_alert(self, alert: RiskAlert) -> None:
        """An alert is shown at its own time. On a simulated market, one stamped in wall
        time at its source (far from the run's clock: it would put an alarm hours away
        from the orders it concerns) is shown at the run's clock when it arrived instead.

        One stamped on the run's clock stays as it is, even ahead of the newest tick this
        console has seen: the tick that raised a 15:15 square-off may still be on its way,
        and re-stamping showed the square-off at 15:14. So does one far behind it that is
        not wall time either: a console catching up on a cluster reads ticks ahead of the
        alerts, and re-stamping showed a 10:55 kill at 12:30.
        """
        source_ts = alert.alert_ts
        if self.clock.follows_events and self.event_ns is not None:
            ts = alert.alert_ts
            if (
                abs(ts - self.event_ns) > RUN_CLOCK_SLACK_NS
                and abs(ts - self.wall_ns()) <= RUN_CLOCK_SLACK_NS
            ):
                alert = msgspec.structs.replace(alert, alert_ts=self.event_ns)
        self.alerts.appendleft(alert)
        self.alert_book.add(alert, source_ts)
        self._touch(ALERTS)

    def apply_alerts_acknowledged(self, ack: AlertsAcknowledged) -> None:
        """An operator (in this console or another) has read these pinned alerts."""
        if self.alert_book.acknowledged_elsewhere(ack.alerts):
            self._touch(ALERTS)

    def acknowledge_alerts(self) -> list[AlertLine]:
        """The operator has read the pinned CRITICAL alerts: unpin them (returned)."""
        acknowledged = self.alert_book.acknowledge()
        if acknowledged:
            self._touch(ALERTS)
        return acknowledged

    def apply_health(self, report: HealthReport) -> None:
        arrived = self.health_monotonic_ns()
        for component in report.components:
            self.components[component.name] = component
            self.health_arrival_ns[component.name] = arrived
        self.health_ts = max(self.health_ts, report.report_ts)
        self._touch(HEALTH)

    def apply_trading_state(self, change: TradingStateChanged) -> None:
        self.set_trading_state(change.scope, change.mode, change.reason)

    # -- set by the runtime or the console --------------------------------------
    def set_trading_state(self, scope: str, mode: TradingMode, reason: str = "") -> None:
        """Global or per-strategy mode (initial values, or a change the engine just made)."""
        if self.trading_states.get(scope) is mode and self.trading_reasons.get(scope) == reason:
            return
        self.trading_states[scope] = mode
        self.trading_reasons[scope] = reason
        info = self.strategies.get(scope)
        if info is not None:
            self.strategies[scope] = StrategyInfo(info.name, info.kind, info.instruments, mode)
            self._touch(STRATEGIES)
        self._touch(TRADING)

    def set_strategies(self, strategies: Iterable[StrategyInfo]) -> None:
        self.strategies = {}
        for info in strategies:
            mode = self.trading_states.get(info.name, info.state)
            self.strategies[info.name] = StrategyInfo(info.name, info.kind, info.instruments, mode)
            self.trading_states[info.name] = mode
        self._touch(STRATEGIES)

    def set_session(self, user: str | None, expiry_ts: int | None) -> None:
        self.session = SessionInfo(user, expiry_ts)
        self._touch(SESSION)

    def set_replay(self, status: ReplayStatus) -> None:
        """The replay's day, speed and pause, for the header (redrawn with the market)."""
        self.replay = status
        self._touch(MARKET)

    def set_funds(self, funds: Funds | None) -> None:
        """The account's available, used and total money, as the venue last told them
        (paper: the funds model after every fill; live: Kite's ``margins()``)."""
        if funds == self.funds:
            return
        self.funds = funds
        self._touch(FUNDS)

    # -- queries ----------------------------------------------------------------
    @property
    def global_state(self) -> TradingMode:
        return self.trading_states.get(GLOBAL_SCOPE, TradingMode.ACTIVE)

    def effective_state(self, strategy: str) -> TradingMode:
        """The stricter of the global mode and the strategy's own (what actually applies)."""
        own = self.trading_states.get(strategy, TradingMode.ACTIVE)
        return effective_mode(self.global_state, own)

    def trading_day(self, run_ns: int | None) -> str | None:
        """The trading day the console's money is of: the session of the run's clock (the
        last one begun, so an evening or a weekend shows the last session, as the daily
        loss limit counts it); before the run's clock is known (no tick yet on a simulated
        market), the last snapshot's day."""
        if run_ns is not None:
            return self.days.window(run_ns).label
        if self.pnl is not None and self.pnl.trading_day:
            return self.pnl.trading_day
        return None

    def position_views(self, day: str | None = None) -> list[PositionView]:
        """The trading day's positions, marked to the latest tick, sorted by symbol then
        strategy: every open one and the flat ones whose last fill was that day (the book
        keeps every position ever held; one closed on an earlier day is not today's money).

        ``day`` None: the last snapshot's day.
        """
        day = day or self.trading_day(None)
        views = [
            self._view(p, day)
            for p in self.positions.values()
            if p.net_quantity or self._filled_on(p, day)
        ]
        views.sort(key=lambda v: (v.symbol, v.strategy))
        return views

    def _filled_on(self, position: PositionSnapshot, day: str | None) -> bool:
        ts = position.updated_ts
        return bool(ts) and day is not None and self.days.window(ts).label == day

    def _view(self, position: PositionSnapshot, day: str | None) -> PositionView:
        """Marked at the latest price: the unrealized figures move by what the mark moved
        since the snapshot; the day's figures only when the snapshot is of ``day``."""
        token = position.instrument_token
        ltp = self.ltp.get(token, position.last_price)
        unrealized = position.unrealized_pnl
        if ltp is not None and position.net_quantity:
            marked = position.last_price
            if marked is not None:  # exact: the average price is rounded to 4 places
                unrealized += (ltp - marked) * position.net_quantity
            else:
                unrealized = (ltp - position.average_price) * position.net_quantity
        close = self.closes.get(token)
        day_change = ltp - close if ltp is not None and close is not None else position.day_change
        day_unrealized = position.day_unrealized_pnl
        day_figures: dict[str, Decimal | None]
        if position.trading_day == day and day_unrealized is not None:
            day_figures = {
                "day_unrealized_pnl": day_unrealized + (unrealized - position.unrealized_pnl)
            }
        else:
            carried = self._carried_in(position, day, ltp)
            none_today = None if carried is None else ZERO
            day_figures = {
                "day_realized_pnl": none_today,
                "day_unrealized_pnl": carried,
                "day_charges": none_today,
            }
        return project(
            PositionView,
            position,
            last_price=ltp,
            unrealized_pnl=unrealized,
            day_change=day_change,
            **day_figures,
        )

    def _carried_in(
        self, position: PositionSnapshot, day: str | None, ltp: Decimal | None
    ) -> Decimal | None:
        """Today's unrealized P&L of a position carried in (its snapshot is of an earlier
        day) until the engine's first snapshot of ``day``, as the portfolio counts it: from
        the previous close, nothing moved before the instrument's first tick of ``day``.
        Without it each session opened with no Day P&L for minutes (seen in QA)."""
        held_since = position.trading_day
        if day is None or not held_since or held_since >= day:
            return None
        quantity = position.net_quantity
        ticked = self._tick_ns.get(position.instrument_token)
        if not quantity or ticked is None or self.days.window(ticked).label != day:
            return ZERO
        close = self.closes.get(position.instrument_token)
        if close is None or ltp is None:
            return None
        return (ltp - close) * quantity

    def run_now_ns(self, wall_ns: int) -> int | None:
        """The run's clock: ``wall_ns``, or on a simulated market its newest event time."""
        return self.clock.now_ns(wall_ns, self.event_ns)

    def market_status(self, wall_ns: int) -> str:
        """The market's status from the trading calendar at the run's clock."""
        return self.clock.market_status(self.run_now_ns(wall_ns))

    def health_age_s(self, name: str) -> float | None:
        """Seconds since component ``name``'s last report *arrived*, None if never."""
        arrived = self.health_arrival_ns.get(name)
        if arrived is None:
            return None
        return max(0, self.health_monotonic_ns() - arrived) / NS_PER_S

    def catching_up(self) -> int | None:
        """The reader's lag while it is above ``CATCH_UP_LAG`` (an attached console reading
        what the cluster published before it came), else None."""
        lag = self.bus_lag() if self.bus_lag is not None else 0
        return lag if lag > CATCH_UP_LAG else None

    def feed_age_s(self) -> float | None:
        """Seconds since a tick last *arrived* (monotonic), None before the first."""
        return self.clock.age_s(self.last_tick_arrival_ns)

    def account(
        self, views: list[PositionView] | None = None, day: str | None = None
    ) -> AccountView:
        """The trading day's money over the positions shown (``views``, by default
        ``position_views(day)``): the P&L line, the positions TOTAL and the header's Day
        P&L all read this one computation, so no two of them can disagree.

        Realized, unrealized and charges are the sums of the rows' day figures, None while
        a row's are unknown, or with no rows until a snapshot of ``day`` says the day is
        flat. Equity is the last snapshot's (cash + market value) moved by how far the
        marks moved since it; unknown until the first snapshot.
        """
        day = day or self.trading_day(None)
        views = self.position_views(day) if views is None else views
        pnl = self.pnl
        equity = None
        if pnl is not None:  # flat rows left out hold no unrealized P&L
            marked = sum((v.unrealized_pnl for v in views), ZERO)
            equity = pnl.equity + (marked - pnl.unrealized_pnl)
        known = all(v.day_pnl is not None for v in views) and (
            bool(views) or (pnl is not None and pnl.trading_day == day)
        )
        if not known:
            return AccountView(day, None, None, None, equity)
        return AccountView(
            day,
            sum((v.day_realized_pnl or ZERO for v in views), ZERO),
            sum((v.day_unrealized_pnl or ZERO for v in views), ZERO),
            sum((v.day_charges or ZERO for v in views), ZERO),
            equity,
        )

    def open_orders(self) -> list[OrderUpdate]:
        return [o for o in self.orders.values() if o.status.is_working]

    def order_rows(self, day: str | None = None) -> list[OrderUpdate]:
        """Working orders, then finished ones (of trading ``day`` only), newest first."""
        return order_book_rows(self.orders.values(), self.days, day)

    @staticmethod
    def strategy_pnl(strategy: str, views: list[PositionView]) -> Decimal | None:
        """The strategy's day P&L over the rows shown (``account``'s, per strategy); None
        while one of its rows' figures is unknown."""
        total = ZERO
        for view in views:
            if view.strategy == strategy:
                pnl = view.day_pnl
                if pnl is None:
                    return None
                total += pnl
        return total


# Which method applies each event a console follows (ticks aside, and funds, which
# ``funds_relay`` applies), by payload type; the processor dispatches on it.
APPLY: dict[type, Callable[[ReadModel, Any], None]] = {
    OrderUpdate: ReadModel.apply_order,
    RejectedSignal: ReadModel.apply_rejection,
    PositionSnapshot: ReadModel.apply_position,
    ProtectionState: ReadModel.apply_protection,
    PnlSnapshot: ReadModel.apply_pnl,
    RiskAlert: ReadModel.apply_alert,
    AlertsAcknowledged: ReadModel.apply_alerts_acknowledged,
    HealthReport: ReadModel.apply_health,
    TradingStateChanged: ReadModel.apply_trading_state,
}


def _is_stale(update: OrderUpdate, current: OrderUpdate) -> bool:
    """An order never reopens, and a finish is never lost to an earlier-stamped venue time.

    Paper fills carry the tick's event time, which can precede the ack's signal time, so
    the timestamp alone would leave a filled order showing OPEN.
    """
    if current.status.is_terminal != update.status.is_terminal:
        return current.status.is_terminal
    return current.update_ts > update.update_ts
