"""``ReadModel``: the bounded, in-memory picture of the engine that a console draws.

Every event is applied in O(1) (ticks arrive at thousands per second) and bumps
``version`` plus the version of the section it touched, so a UI polling on a timer
redraws only the panels whose data changed and never more often than it polls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from decimal import Decimal

from engine.events.payloads import (
    ComponentHealth,
    HealthReport,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RiskAlert,
    Tick,
    TradingStateChanged,
)
from engine.events.types import TradingMode
from engine.read_model.views import PositionView, SessionInfo, StrategyInfo

GLOBAL_SCOPE = "global"

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
)


class ReadModel:
    """Latest positions, prices, orders, alerts, P&L, health and trading states; bounded."""

    def __init__(
        self,
        *,
        max_terminal_orders: int = 200,
        max_alerts: int = 200,
        equity_points: int = 300,
    ) -> None:
        self.version = 0
        self.sections: dict[str, int] = dict.fromkeys(SECTIONS, 0)
        self.positions: dict[tuple[str, int], PositionSnapshot] = {}
        self.ltp: dict[int, Decimal] = {}
        self.closes: dict[int, Decimal] = {}
        self.orders: dict[str, OrderUpdate] = {}
        self._terminal_ids: deque[str] = deque()
        self.max_terminal_orders = max_terminal_orders
        self.alerts: deque[RiskAlert] = deque(maxlen=max_alerts)
        self.pnl: PnlSnapshot | None = None
        self.equity_history: deque[float] = deque(maxlen=equity_points)
        self.components: dict[str, ComponentHealth] = {}
        self.health_ts = 0
        self.trading_states: dict[str, TradingMode] = {GLOBAL_SCOPE: TradingMode.ACTIVE}
        self.trading_reasons: dict[str, str] = {}
        self.strategies: dict[str, StrategyInfo] = {}
        self.session = SessionInfo()
        self.market_status = "UNKNOWN"
        self.last_tick_ns: int | None = None
        self.ticks_seen = 0
        self._held: dict[int, int] = {}  # instrument token → positions holding it

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
        self.last_tick_ns = tick.exchange_ts
        self.ticks_seen += 1
        self._touch(POSITIONS if token in self._held else FEED)

    def apply_order(self, update: OrderUpdate) -> None:
        """Keep the newest update per order: every working order and the last N finished."""
        current = self.orders.get(update.client_order_id)
        if current is not None and _is_stale(update, current):
            return  # an older update redelivered late
        self.orders[update.client_order_id] = update
        if update.status.is_terminal and (current is None or not current.status.is_terminal):
            self._terminal_ids.append(update.client_order_id)
            while len(self._terminal_ids) > self.max_terminal_orders:
                old = self._terminal_ids.popleft()
                stale = self.orders.get(old)
                if stale is not None and stale.status.is_terminal:
                    del self.orders[old]
        self._touch(ORDERS)

    def apply_position(self, position: PositionSnapshot) -> None:
        key = (position.strategy, position.instrument_token)
        if key not in self.positions:
            self._held[position.instrument_token] = self._held.get(position.instrument_token, 0) + 1
        self.positions[key] = position
        if position.last_price is not None and position.instrument_token not in self.ltp:
            self.ltp[position.instrument_token] = position.last_price
        self._touch(POSITIONS)

    def apply_pnl(self, snapshot: PnlSnapshot) -> None:
        self.pnl = snapshot
        self.equity_history.append(float(snapshot.equity))
        for position in snapshot.positions:
            self.apply_position(position)
        self._touch(PNL)

    def apply_alert(self, alert: RiskAlert) -> None:
        self.alerts.appendleft(alert)
        self._touch(ALERTS)

    def apply_health(self, report: HealthReport) -> None:
        for component in report.components:
            self.components[component.name] = component
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

    def set_market_status(self, status: str) -> None:
        if status != self.market_status:
            self.market_status = status
            self._touch(MARKET)

    # -- queries ----------------------------------------------------------------
    @property
    def global_state(self) -> TradingMode:
        return self.trading_states.get(GLOBAL_SCOPE, TradingMode.ACTIVE)

    def effective_state(self, strategy: str) -> TradingMode:
        """The stricter of the global mode and the strategy's own (what actually applies)."""
        order = (TradingMode.ACTIVE, TradingMode.REDUCING, TradingMode.HALTED)
        own = self.trading_states.get(strategy, TradingMode.ACTIVE)
        return max(own, self.global_state, key=order.index)

    def position_views(self) -> list[PositionView]:
        """Positions marked to the latest tick, sorted by symbol then strategy."""
        views = [self._view(p) for p in self.positions.values()]
        views.sort(key=lambda v: (v.symbol, v.strategy))
        return views

    def _view(self, position: PositionSnapshot) -> PositionView:
        token = position.instrument_token
        ltp = self.ltp.get(token, position.last_price)
        unrealized = position.unrealized_pnl
        if ltp is not None and position.net_quantity:
            unrealized = (ltp - position.average_price) * position.net_quantity
        close = self.closes.get(token)
        day_change = ltp - close if ltp is not None and close is not None else position.day_change
        return PositionView(
            strategy=position.strategy,
            instrument_token=token,
            symbol=position.symbol,
            net_quantity=position.net_quantity,
            average_price=position.average_price,
            last_price=ltp,
            unrealized_pnl=unrealized,
            realized_pnl=position.realized_pnl,
            day_change=day_change,
        )

    def open_orders(self) -> list[OrderUpdate]:
        return [o for o in self.orders.values() if o.status.is_working]

    def order_rows(self) -> list[OrderUpdate]:
        """Working orders first (newest first), then finished ones (newest first)."""
        return sorted(self.orders.values(), key=lambda o: (o.status.is_terminal, -o.update_ts))

    def strategy_pnl(self, strategy: str) -> Decimal:
        views = (self._view(p) for (name, _), p in self.positions.items() if name == strategy)
        return sum((v.total_pnl for v in views), Decimal("0"))


def _is_stale(update: OrderUpdate, current: OrderUpdate) -> bool:
    """An order never reopens, and a finish is never lost to an earlier-stamped venue time.

    Paper fills carry the tick's event time, which can precede the ack's signal time, so
    the timestamp alone would leave a filled order showing OPEN.
    """
    if current.status.is_terminal != update.status.is_terminal:
        return current.status.is_terminal
    return current.update_ts > update.update_ts
