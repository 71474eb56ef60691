"""``ZerodhaVenue``: live trading at Zerodha — session, adapter, ticker, order updates.

The runtime takes from it the parts the paper engine lacks: the Zerodha adapter behind
execution, the Kite ticker as the market feed, the order-update poller and the
reconciler. Order updates (ticker text frames and order-book polls) travel the bus as
``ORDER_VENUE_UPDATE`` events on ``zerodha.orders.commands``, so execution applies them
inside its own serial handler: every fill is journalled before its event is emitted.

The first live order of a session needs the operator's confirmation, and that
confirmation is the resume: the live engine always starts HALTED (reason "not logged
in to Zerodha" when there is no valid token), and going ACTIVE runs the pre-trading
checks, which the console shows as a checklist before the trader confirms. On Kafka the
halt comes when a process takes the execution lease (at start or on failover), not when
a standby starts. A dead token (06:00 IST expiry, a ``TokenException``, a 403 on the
ticker) halts trading (or reduces, ``on_token_expiry="reduce"``), stops the ticker
retrying, raises an alert and clears the session so the console asks for a new login.
After a login the ticker resubscribes; trading stays halted until the operator resumes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from engine.bus.base import EventBus
from engine.clock import IST, Clock, ns_to_datetime
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import OrderUpdate, RiskAlert, Tick
from engine.events.types import Broker, EventType, Severity, TradingMode
from engine.instruments.registry import InstrumentRegistry
from engine.market.calendar import NseCalendar
from engine.prechecks import CheckResult, HealthProbe, Readiness, probe_health, run_prechecks
from engine.prechecks import require_ready as require_all_passed
from engine.read_model import ReadModel
from engine.strategies import StrategyBinding
from engine.trading_state.control import SYSTEM_OPERATOR, TradingControl
from engine.trading_state.state import GLOBAL_SCOPE
from engine.zerodha import instruments_sync
from engine.zerodha.adapter import ZerodhaConfig
from engine.zerodha.funds_poll import live_funds
from engine.zerodha.margins import KiteMarginCheck
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from engine.zerodha.prechecks import ZerodhaReadiness
from engine.zerodha.rate_limit import OrderRateLimiter
from engine.zerodha.reconcile import Reconciler, bus_publisher
from engine.zerodha.session import SessionInfo, ZerodhaSession
from engine.zerodha.ticker_feed import KiteTickerFeed
from engine.zerodha.ticker_service import (
    NOT_LOGGED_IN,
    LiveTickerService,
    kite_tick_converter,
    traded_tokens,
)
from engine.zerodha.venue_config import ZerodhaVenueConfig
from engine.zerodha.venue_services import LiveZerodhaAdapter, OrderBookPollerService

log = logging.getLogger("alphapanda.zerodha.live")
START_HALTED = "live session start: press r to run the pre-trading checks and confirm"
TOKEN_RULE = "zerodha_token"


class ZerodhaVenue:
    """The live parts of one runtime and the console's handle on login and prechecks.

    Implements ``engine.venue.TradingVenue``.
    """

    has_session = True
    no_session_reason = ""

    def __init__(
        self,
        config: ZerodhaVenueConfig,
        *,
        session: ZerodhaSession,
        bus: EventBus,
        store: Any,
        sync_record: instruments_sync.SyncRecord,
        registry: InstrumentRegistry,
        bindings: Sequence[StrategyBinding],
        read_model: ReadModel,
        clock: Clock,
        calendar: NseCalendar,
        risk_limits_configured: bool,
        health_probes: Sequence[HealthProbe] = (),
        ticker_factory: Callable[..., Any] | None = None,
        use_ticker: bool = True,
    ) -> None:
        self.config = config
        self.session = session
        self.bus = bus
        self.store = store
        self.sync_record = sync_record
        self.read_model = read_model
        self.clock = clock
        self.calendar = calendar
        self._risk_limits_configured = risk_limits_configured
        self._health_probes = list(health_probes)
        self.control: TradingControl | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.adapter = LiveZerodhaAdapter(
            session,
            store,
            limiter=OrderRateLimiter(config.rate_limits, clock=clock),
            config=ZerodhaConfig(market_protection=config.market_protection),
        )
        self.margin_check = KiteMarginCheck(session.client, config=config.margin, clock=clock)
        self.funds_check = self.margin_check
        self.order_updates = ZerodhaOrderUpdates(session.client, store, self._to_execution)
        self.reconciler = Reconciler(
            session.client,
            store,
            bus_publisher(bus, store=store),
            catch_up=self.order_updates.ingest,
            clock=clock,
        )
        self.tokens = traded_tokens(bindings)
        if not self.tokens:
            log.warning("no strategy trades on zerodha (broker: zerodha): no market data")
        self.ticker = LiveTickerService(
            session=session,
            make_feed=self._feed_maker(registry, ticker_factory),
            clock=clock,
            on_reconnect=lambda: self._spawn(self.reconcile("after a ticker reconnect")),
        )
        self.feed: Any = self.ticker if use_ticker else None
        self.services: list[Any] = [
            OrderBookPollerService(self.order_updates),
            live_funds(self.margin_check, read_model.set_funds, poll_s=config.margin.funds_poll_s),
        ]
        session.on_expired(self._session_expired)

    def _feed_maker(
        self, registry: InstrumentRegistry, ticker_factory: Callable[..., Any] | None
    ) -> Callable[[str], KiteTickerFeed]:
        """A ``KiteTickerFeed`` per access token, noting when each tick arrived."""
        to_tick = kite_tick_converter(registry, self.clock)
        config = self.config

        def convert(raw: dict[str, Any]) -> Tick:
            tick = to_tick(raw)
            self.ticker.last_tick_wall_ns = self.clock.now_ns()  # when it arrived, for prechecks
            return tick

        def make_feed(access_token: str) -> KiteTickerFeed:
            return KiteTickerFeed(
                api_key=config.api_key,
                access_token=access_token,
                ticker_root=config.ticker_root,
                bus=self.bus,
                tokens=self.tokens,
                convert=convert,
                stale_after_s=config.ticker_stale_after_s,
                on_token_rejected=self._ticker_rejected,
                on_order_update=self.order_updates.on_ticker_update,
                ticker_factory=ticker_factory,
            )

        return make_feed

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
            # kept here: this process takes execution (its lease is not yet active)
            await control.auto_halt(f"{NOT_LOGGED_IN}: log in (ctrl+l)", TOKEN_RULE, keep=True)
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

    # -- the console's side (engine.venue.Venue) ---------------------------------------
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
        health = await probe_health(self._health_probes)
        zerodha = ZerodhaReadiness(
            token_expires_ns=lambda: info.expires_ts if (info := self.session.info) else None,
            instruments_synced_on=self.sync_record.synced_on,
            feed_connected=lambda: self.ticker.connected,
            feed_last_tick_ns=lambda: self.ticker.last_tick_wall_ns,
            feed_stale_after_s=self.config.ticker_stale_after_s,
        )
        common = Readiness(
            risk_limits_configured=lambda: self._risk_limits_configured,
            healthy=lambda: health,
        )
        return run_prechecks(common, calendar=self.calendar, clock=self.clock, venue_checks=zerodha)

    async def sync_instruments(
        self, progress: instruments_sync.Progress | None = None, exchanges: Sequence[str] = ("NSE",)
    ) -> instruments_sync.SyncResult:
        """Today's dump through the session's client into the runtime's store, date recorded.

        The console's "Sync instruments"; the date goes where ``alphapanda instruments
        sync`` puts it, so the "instruments" pre-trading check passes afterwards. Raises
        ``LoginError`` when logged out.
        """
        client = self.session.client()
        result = await instruments_sync.sync_instruments(client, self.store, exchanges, progress)
        today = ns_to_datetime(self.clock.now_ns(), IST).date()
        self.sync_record.record(today, result.per_exchange)
        log.info("instruments synced", extra={"rows": result.per_exchange})
        return result

    async def require_ready(self) -> None:
        """Raise ``NotReadyForLive`` (with every reason) unless all checks pass."""
        require_all_passed(await self.prechecks())

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
        reduce = self.config.on_token_expiry == "reduce"
        current = control.state.scope_mode(GLOBAL_SCOPE)
        if not reduce:
            await control.auto_halt(why, TOKEN_RULE)
        elif current is TradingMode.ACTIVE:
            await control.reduce(None, operator=SYSTEM_OPERATOR, reason=f"{TOKEN_RULE}: {why}")
            await self._alert(f"Trading REDUCING on zerodha: {why}")
        else:
            await self._alert(f"Zerodha session ended: {why}")

    async def _alert(self, message: str) -> None:
        """A CRITICAL session alarm, published and kept as the control's auto-halt is."""
        alert = RiskAlert(
            severity=Severity.CRITICAL,
            rule=TOKEN_RULE,
            message=message,
            broker=Broker.ZERODHA,
            alert_ts=self.clock.now_ns(),
        )
        await self._require_control().alarm(alert)

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
