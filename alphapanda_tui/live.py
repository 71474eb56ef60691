"""Live trading wiring (``ALPHAPANDA_MODE=live``): session, venue, ticker and order updates.

The runtime asks ``build_live`` for the parts the paper engine lacks: the Zerodha venue
behind execution, the Kite ticker as the market feed, the order-update poller and the
reconciler. Order updates (ticker text frames and order-book polls) travel the bus as
``ORDER_VENUE_UPDATE`` events on ``zerodha.orders.commands``, so execution applies them
inside its own serial handler: every fill is journalled before its event is emitted.

The first live order of a session needs the operator's confirmation, and that
confirmation is the resume: the live engine always starts HALTED (reason "not logged
in to Zerodha" when there is no valid token), and going ACTIVE runs the pre-trading
checks, which the console shows as a checklist before the trader confirms. On Kafka the
halt comes when a process takes the execution lease (at start or on failover), not when
a standby starts. A dead token (06:00 IST expiry, a ``TokenException``, a 403 on the
ticker) halts trading (or reduces, ``ALPHAPANDA_ZERODHA__ON_TOKEN_EXPIRY=reduce``),
stops the ticker retrying, raises an alert and clears the session so the console asks
for a new login. After a login the ticker resubscribes; trading stays halted until the
operator resumes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from alphapanda_tui.settings import Settings
from engine.bus.base import EventBus
from engine.clock import IST, Clock, ns_to_datetime
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ComponentHealth, OrderUpdate, RiskAlert, Tick
from engine.events.types import (
    Broker,
    ComponentStatus,
    EventType,
    OrderStatus,
    Severity,
    TradingMode,
)
from engine.instruments.registry import InstrumentRegistry
from engine.market.calendar import NseCalendar
from engine.market.feeds.kite_ticks import tick_from_kite
from engine.read_model import ReadModel
from engine.strategies import StrategyBinding
from engine.trading_state.control import SYSTEM_OPERATOR, TradingControl
from engine.trading_state.state import GLOBAL_SCOPE
from engine.zerodha import instruments_sync
from engine.zerodha.adapter import ZerodhaAdapter, ZerodhaConfig
from engine.zerodha.funds_poll import live_funds
from engine.zerodha.margins import KiteMarginCheck, MarginConfig
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from engine.zerodha.prechecks import CheckResult, LiveReadiness, require_ready, run_prechecks
from engine.zerodha.rate_limit import OrderRateLimiter, RateLimits
from engine.zerodha.reconcile import Reconciler, bus_publisher
from engine.zerodha.session import SessionInfo, ZerodhaSession
from engine.zerodha.ticker_feed import KiteTickerFeed

log = logging.getLogger("alphapanda.zerodha.live")
NOT_LOGGED_IN = "not logged in to Zerodha"
START_HALTED = "live session start: press r to run the pre-trading checks and confirm"
TOKEN_RULE = "zerodha_token"
HealthProbe = Callable[[], Awaitable[ComponentHealth] | ComponentHealth]


def traded_tokens(bindings: Sequence[StrategyBinding]) -> list[int]:
    """The instrument tokens the strategies trade, each once, in strategy order."""
    return list(dict.fromkeys(i.instrument_token for b in bindings for i in b.instruments))


def kite_tick_converter(registry: InstrumentRegistry, clock: Clock) -> Callable[..., Tick]:
    """``tick_from_kite`` for the ticker's dicts, whose times are naive *process-local* time.

    KiteTicker builds them with ``datetime.fromtimestamp(epoch)``; ``astimezone`` reads a
    naive datetime as local time too, so the epoch comes back exactly whatever TZ is.
    """

    def convert(raw: dict[str, Any]) -> Tick:
        fixed = dict(raw)
        for key in ("exchange_timestamp", "last_trade_time"):
            value = fixed.get(key)
            if isinstance(value, datetime) and value.tzinfo is None:
                fixed[key] = value.astimezone(UTC)
        return tick_from_kite(fixed, registry, received_ns=clock.now_ns())

    return convert


class LiveTickerService:
    """The market feed in live mode: a ``KiteTickerFeed`` per valid access token.

    Waits while logged out, starts a ticker once a token is valid, stops it when the
    token dies (the ticker itself stops retrying on a 403) and starts a fresh one, which
    subscribes again, after the next login. ``on_reconnect`` runs after every reconnect.
    """

    def __init__(
        self,
        *,
        session: ZerodhaSession,
        make_feed: Callable[[str], KiteTickerFeed],
        clock: Clock,
        on_reconnect: Callable[[], None] = lambda: None,
        check_interval_s: float = 0.5,
    ) -> None:
        self.name = "feed.kite"
        self._session = session
        self._make_feed = make_feed
        self._clock = clock
        self._on_reconnect = on_reconnect
        self._interval = check_interval_s
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self.feed: KiteTickerFeed | None = None
        self.feeds_started = 0
        self.last_tick_wall_ns: int | None = None

    async def run(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        while not self._stopping:
            info = self._session.info  # reading it is what notices the 06:00 expiry
            if info is None:
                await self._sleep()
                continue
            await self._run_feed(info)

    async def _run_feed(self, info: SessionInfo) -> None:
        feed = self._make_feed(info.access_token)
        self.feed = feed
        self.feeds_started += 1
        task = asyncio.create_task(feed.run(), name="feed.kite.ticker")
        connects = 0
        try:
            while not self._stopping and not task.done():
                current = self._session.info
                if feed.token_rejected or current is None or current is not info:
                    break
                total = sum(c.connects for c in feed.connections)
                if total > connects:
                    if connects:
                        self._on_reconnect()
                    connects = total
                await self._sleep()
        finally:
            feed.stop()
            try:
                async with asyncio.timeout(5):
                    await task
            except TimeoutError:
                task.cancel()
            except Exception:
                log.exception("kite ticker stopped with an error")

    async def _sleep(self) -> None:
        assert self._wake is not None
        try:
            async with asyncio.timeout(self._interval):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    @property
    def connected(self) -> bool:
        feed = self.feed
        return bool(
            feed is not None
            and not feed.token_rejected
            and feed.connections
            and all(c.connected for c in feed.connections)
        )

    def health(self) -> ComponentHealth:
        if self.feed is not None and self._session.info is not None:
            return self.feed.health()
        status = ComponentStatus.DOWN if self.feeds_started else ComponentStatus.STOPPED
        return ComponentHealth(name=self.name, status=status, detail=NOT_LOGGED_IN)


class _LiveAdapter(ZerodhaAdapter):
    """``ZerodhaAdapter`` whose start-up order-book read never crashes execution.

    Logged out (or Zerodha unreachable) at start, every stored working order counts as
    possibly at Zerodha: execution keeps it without sending it again, and the reconciler
    links or reports it after the next login. Never a second send of an unknown order.
    """

    def __init__(self, session: ZerodhaSession, store: Any, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self._store = store

    async def open_orders(self) -> list[str]:
        try:
            return await super().open_orders()
        except Exception as exc:
            log.warning(
                "zerodha order book unreadable at start: working orders kept for reconciliation",
                extra={"error": type(exc).__name__},
            )
            working = [s for s in OrderStatus if s.is_working]
            orders = await self._store.list_orders(Broker.ZERODHA, statuses=working)
            return [o.client_order_id for o in orders]


class _PollerService:
    """Runs the order-book poll of ``ZerodhaOrderUpdates`` under the supervisor."""

    def __init__(self, updates: ZerodhaOrderUpdates) -> None:
        self.name = "zerodha.order_updates"
        self.updates = updates

    async def run(self) -> None:
        await self.updates.run()

    def stop(self) -> None:
        self.updates.stop()

    def health(self) -> ComponentHealth:
        return ComponentHealth(
            name=self.name,
            status=ComponentStatus.RUNNING,
            detail=f"{self.updates.polls} polls, {self.updates.foreign_rows} foreign rows",
            processed=self.updates.polls,
        )


def margin_config(settings: Settings) -> MarginConfig:
    """The live margin check's settings (``ALPHAPANDA_ZERODHA__MARGIN_*``)."""
    z = settings.zerodha
    return MarginConfig(
        enabled=z.margin_check,
        cache_s=z.margin_cache_s,
        on_error=z.margin_on_error,
        requests_per_second=z.margin_requests_per_second,
        funds_poll_s=z.funds_poll_s,
    )


class LiveTrading:
    """The live parts of one runtime and the console's handle on login and prechecks."""

    def __init__(
        self,
        settings: Settings,
        *,
        session: ZerodhaSession,
        bus: EventBus,
        store: Any,
        registry: InstrumentRegistry,
        bindings: Sequence[StrategyBinding],
        read_model: ReadModel,
        clock: Clock,
        calendar: NseCalendar,
        health_probes: Sequence[HealthProbe] = (),
        ticker_factory: Callable[..., Any] | None = None,
        use_ticker: bool = True,
    ) -> None:
        self.settings = settings
        self.session = session
        self.bus = bus
        self.store = store
        self.read_model = read_model
        self.clock = clock
        self.calendar = calendar
        self._health_probes = list(health_probes)
        self.control: TradingControl | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        z = settings.zerodha
        limits = RateLimits(
            per_second=z.orders_per_second,
            per_minute=z.orders_per_minute,
            per_day=z.orders_per_day,
        )
        self.adapter = _LiveAdapter(
            session,
            store,
            limiter=OrderRateLimiter(limits, clock=clock),
            config=ZerodhaConfig(market_protection=z.market_protection),
        )
        self.margin_check = KiteMarginCheck(
            session.client, config=margin_config(settings), clock=clock
        )
        self.order_updates = ZerodhaOrderUpdates(session.client, store, self._to_execution)
        self.reconciler = Reconciler(
            session.client,
            store,
            bus_publisher(bus),
            catch_up=self.order_updates.ingest,
            clock=clock,
        )
        self.tokens = traded_tokens(bindings)
        if not self.tokens:
            log.warning("no strategy trades on zerodha (broker: zerodha): no market data")
        to_tick = kite_tick_converter(registry, clock)

        def convert(raw: dict[str, Any]) -> Tick:
            tick = to_tick(raw)
            self.ticker.last_tick_wall_ns = clock.now_ns()  # when it arrived, for prechecks
            return tick

        def make_feed(access_token: str) -> KiteTickerFeed:
            return KiteTickerFeed(
                api_key=z.api_key or "",
                access_token=access_token,
                ticker_root=z.ticker_root,
                bus=bus,
                tokens=self.tokens,
                convert=convert,
                stale_after_s=z.ticker_stale_after_s,
                on_token_rejected=self._ticker_rejected,
                on_order_update=self.order_updates.on_ticker_update,
                ticker_factory=ticker_factory,
            )

        self.ticker = LiveTickerService(
            session=session,
            make_feed=make_feed,
            clock=clock,
            on_reconnect=lambda: self._spawn(self.reconcile("after a ticker reconnect")),
        )
        self.feed: Any = self.ticker if use_ticker else None
        self.services: list[Any] = [
            _PollerService(self.order_updates),
            live_funds(
                self.margin_check,
                read_model.set_funds,
                poll_s=self.margin_check.config.funds_poll_s,
            ),
        ]
        session.on_expired(self._session_expired)

    # -- lifecycle (called by the runtime) ---------------------------------------------
    def attach(self, control: TradingControl) -> None:
        self.control = control

    async def on_started(self, *, runs_execution: bool = True) -> None:
        """Right after the pipeline started: show the session; with ``runs_execution``,
        also ``on_execution_active`` (halt first, then reconcile with Zerodha).

        False where execution does not run here, and where it runs under a lease (Kafka):
        the lease calls ``on_execution_active`` when this process takes it, so neither a
        strategies worker nor a standby execution that starts halts the cluster's trading.
        """
        self._loop = asyncio.get_running_loop()
        self._require_control()
        self._show_session(self.session.info)
        if runs_execution:
            await self.on_execution_active()

    async def on_execution_active(self) -> None:
        """Execution starts here (at start, or a standby taking over the lease): halt
        before any order can leave, then reconcile with Zerodha in the background."""
        self._loop = asyncio.get_running_loop()
        control = self._require_control()
        if self.session.info is None:
            await control.auto_halt(f"{NOT_LOGGED_IN}: log in (ctrl+l)", TOKEN_RULE)
            return
        await control.halt(None, operator=SYSTEM_OPERATOR, reason=START_HALTED)
        self._spawn(self.reconcile("execution started here"))

    @property
    def busy(self) -> bool:
        """True while a reconciliation or a token halt is still running."""
        return bool(self._tasks)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- the console's side (screens.login.LoginFlow) ----------------------------------
    def login_url(self) -> str:
        return self.session.login_url()

    async def login(self, pasted: str) -> SessionInfo:
        """Exchange the pasted redirect URL; the ticker resubscribes, trading stays halted."""
        info = await self.session.exchange(pasted)
        self.adapter.resume_after_login()
        self.margin_check.forget()
        self._show_session(info)
        self.ticker.wake()
        self._spawn(self.reconcile("after login"))
        return info

    async def prechecks(self) -> list[CheckResult]:
        """Every pre-trading check with its reason, in the order a trader fixes them."""
        from alphapanda_tui.commands.instruments import synced_on

        health = [await self._probe(probe) for probe in self._health_probes]
        risk = self.settings.risk
        probes = LiveReadiness(
            token_expires_ns=lambda: info.expires_ts if (info := self.session.info) else None,
            instruments_synced_on=lambda: synced_on(self.settings),
            feed_connected=lambda: self.ticker.connected,
            feed_last_tick_ns=lambda: self.ticker.last_tick_wall_ns,
            risk_limits_configured=lambda: risk.max_daily_loss > 0 and risk.max_order_value > 0,
            healthy=lambda: health,
        )
        return run_prechecks(
            probes,
            calendar=self.calendar,
            clock=self.clock,
            feed_stale_after_s=self.settings.zerodha.ticker_stale_after_s,
        )

    async def sync_instruments(
        self, progress: instruments_sync.Progress | None = None, exchanges: Sequence[str] = ("NSE",)
    ) -> instruments_sync.SyncResult:
        """Today's dump through the session's client into the runtime's store, date recorded.

        The console's "Sync instruments"; the date goes where ``alphapanda instruments
        sync`` puts it, so the "instruments" pre-trading check passes afterwards. Raises
        ``LoginError`` when logged out.
        """
        from alphapanda_tui.commands.instruments import record_sync

        client = self.session.client()
        result = await instruments_sync.sync_instruments(client, self.store, exchanges, progress)
        today = ns_to_datetime(self.clock.now_ns(), IST).date()
        record_sync(self.settings, today, result.per_exchange)
        log.info("instruments synced", extra={"rows": result.per_exchange})
        return result

    async def require_ready(self) -> None:
        """Raise ``NotReadyForLive`` (with every reason) unless all checks pass."""
        require_ready(await self.prechecks())

    async def reconcile(self, why: str) -> None:
        if self.session.info is None:
            return
        try:
            report = await self.reconciler.run()
        except Exception as exc:
            log.warning("reconciliation failed", extra={"why": why, "error": type(exc).__name__})
            return
        log.info("reconciled with zerodha", extra={"why": why, "diffs": len(report.diffs)})

    # -- internals ---------------------------------------------------------------------
    async def _to_execution(self, update: OrderUpdate) -> None:
        """The order-update sink: onto the bus, so execution journals it in its handler."""
        key = topics.order_key(Broker.ZERODHA, update.strategy, update.instrument_token)
        envelope = new_event(
            EventType.ORDER_VENUE_UPDATE,
            update,
            source="zerodha.order_updates",
            key=key,
            broker=Broker.ZERODHA,
        )
        await self.bus.publish(topics.orders_commands(Broker.ZERODHA), envelope)

    def _ticker_rejected(self, reason: str) -> None:
        self.session.expire(f"Zerodha refused the ticker ({reason})")

    def _session_expired(self, reason: str) -> None:
        """Session listener; may run on a worker thread (the client's expiry hook)."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._token_dead(reason)
        else:
            loop.call_soon_threadsafe(self._token_dead, reason)

    def _token_dead(self, reason: str) -> None:
        self._show_session(None)
        self.ticker.wake()
        self._spawn(self._halt_for_token(reason))

    async def _halt_for_token(self, reason: str) -> None:
        control = self._require_control()
        why = f"{reason}; log in again (ctrl+l)"
        reduce = self.settings.zerodha.on_token_expiry == "reduce"
        current = control.state.scope_mode(GLOBAL_SCOPE)
        if not reduce:
            await control.auto_halt(why, TOKEN_RULE)
        elif current is TradingMode.ACTIVE:
            await control.reduce(None, operator=SYSTEM_OPERATOR, reason=f"{TOKEN_RULE}: {why}")
            await self._alert(f"Trading REDUCING on zerodha: {why}")
        else:
            await self._alert(f"Zerodha session ended: {why}")

    async def _alert(self, message: str) -> None:
        alert = RiskAlert(
            severity=Severity.CRITICAL,
            rule=TOKEN_RULE,
            message=message,
            broker=Broker.ZERODHA,
            alert_ts=self.clock.now_ns(),
        )
        envelope = new_event(
            EventType.RISK_ALERT, alert, source="zerodha.live", key="zerodha", broker=Broker.ZERODHA
        )
        await self.bus.publish(topics.SYSTEM_ALERTS, envelope)

    def _show_session(self, info: SessionInfo | None) -> None:
        if info is None:
            self.read_model.set_session(None, None)
        else:
            self.read_model.set_session(info.user_name or info.user_id, info.expires_ts)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="zerodha.live")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("live task failed", exc_info=task.exception())

    def _require_control(self) -> TradingControl:
        if self.control is None:
            raise RuntimeError("attach() the trading control before starting live trading")
        return self.control

    @staticmethod
    async def _probe(probe: HealthProbe) -> CheckResult:
        try:
            result = probe()
            health = await result if asyncio.iscoroutine(result) else result
        except Exception as exc:
            return CheckResult("health", False, f"probe failed: {type(exc).__name__}: {exc}")
        assert isinstance(health, ComponentHealth)
        ok = health.status is ComponentStatus.RUNNING
        reason = health.detail if ok else f"{health.status.value}: {health.detail}"
        return CheckResult(health.name, ok, reason)


def build_session(settings: Settings, clock: Clock | None = None) -> ZerodhaSession:
    """The session over the owner-only token file; secrets registered for redaction first."""
    from engine.logs import register_secret
    from storage.token_store import FileTokenStore

    z = settings.zerodha
    secret = z.api_secret.get_secret_value() if z.api_secret else ""
    register_secret(secret)
    return ZerodhaSession(
        api_key=z.api_key or "",
        api_secret=secret,
        api_root=z.api_root,
        login_url=z.login_url,
        token_store=FileTokenStore(settings.token_file),
        clock=clock,
        timeout=z.request_timeout_s,
        register_secret=register_secret,
    )


def build_live(
    settings: Settings,
    *,
    bus: EventBus,
    store: Any,
    registry: InstrumentRegistry,
    bindings: Sequence[StrategyBinding],
    read_model: ReadModel,
    clock: Clock,
    health_probes: Sequence[HealthProbe] = (),
    use_ticker: bool = True,
    ticker_factory: Callable[..., Any] | None = None,
) -> LiveTrading:
    """Every live part for one runtime; the runtime attaches its trading control."""
    from alphapanda_tui import engine_config
    from alphapanda_tui.errors import ConfigError
    from engine.zerodha.session import LoginError

    settings.require_live_credentials()
    try:
        session = build_session(settings, clock)
    except LoginError as exc:
        raise ConfigError(str(exc)) from None
    return LiveTrading(
        settings,
        session=session,
        bus=bus,
        store=store,
        registry=registry,
        bindings=bindings,
        read_model=read_model,
        clock=clock,
        calendar=engine_config.calendar(settings),
        health_probes=health_probes,
        ticker_factory=ticker_factory,
        use_ticker=use_ticker,
    )
