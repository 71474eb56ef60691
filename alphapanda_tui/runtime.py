"""The composition root: settings → bus, store, registry, strategies, feed, pipeline, console.

``EngineRuntime`` is the embedded engine the console drives (it implements
``EngineHandle``) and also what the headless ``alphapanda engine`` runs. Only this module
knows both the engine and its adapters (SQL store, Kafka bus, token file).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from alphapanda_tui import engine_config
from alphapanda_tui.errors import ConfigError
from alphapanda_tui.market_resume import MarketLeft, market_left
from alphapanda_tui.pid_file import pid_file as pid_file  # re-exported: status, kill
from alphapanda_tui.pid_file import remove_pid as _remove_pid
from alphapanda_tui.pid_file import running_engine_pid as running_engine_pid
from alphapanda_tui.pid_file import write_pid as _write_pid
from alphapanda_tui.settings import Settings
from alphapanda_tui.tick_store import build_recorder
from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.clock import Clock, EventClock, SystemClock
from engine.domain.records import AuditRecord
from engine.events.payloads import ComponentHealth
from engine.events.types import Broker, ComponentStatus, TradingMode
from engine.health import HealthReporter
from engine.instruments import InstrumentRegistry, load_default_registry, load_registry
from engine.market.feeds.replay import ReplayFeed
from engine.market.feeds.simulated import SimulatedFeed
from engine.pipeline import Pipeline, parse_services
from engine.processing import Service
from engine.processing.retention import ProcessedIdsPruner
from engine.read_model import ReadModel
from engine.read_model.processor import ReadModelProcessor
from engine.read_model.run_clock import RunClock
from engine.read_model.views import StrategyInfo
from engine.strategies import StrategyBinding, build_strategies
from engine.strategies.config import StrategyConfigError, load_strategies
from engine.trading_state.control import TradingControl
from engine.trading_state.manual_requests import modifications_done
from engine.trading_state.operator import OperatorControl, TradingOperator, show_changes
from engine.trading_state.state import GLOBAL_SCOPE
from engine.venue import TradingVenue, Venue, sessionless_venue

log = logging.getLogger("alphapanda.runtime")


def build_bus(settings: Settings) -> EventBus:
    """The configured bus; Kafka settings (TLS/SASL) come from ``settings.bus``."""
    bus = settings.bus
    if bus.backend == "memory":
        return MemoryBus(partitions=bus.partitions, capacity=bus.capacity)
    from engine.bus.kafka import KafkaBus, KafkaSecurity

    password = bus.sasl_password.get_secret_value() if bus.sasl_password else None
    return KafkaBus(
        bus.bootstrap_servers,
        client_id=bus.client_id,
        partitions=bus.partitions,
        wire_format=bus.wire_format,
        acks=bus.acks,
        idempotent=bus.idempotent_producer,
        security=KafkaSecurity(
            security_protocol=bus.security_protocol,
            sasl_mechanism=bus.sasl_mechanism,
            sasl_username=bus.sasl_username,
            sasl_password=password,
            ssl_cafile=str(bus.ssl_cafile) if bus.ssl_cafile else None,
        ),
        session_timeout_ms=bus.session_timeout_ms,
        heartbeat_interval_ms=bus.heartbeat_interval_ms,
    )


def build_read_cache(settings: Settings) -> Any:
    """The Redis read-model cache when ``ALPHAPANDA_REDIS__URL`` is set, else None."""
    redis = settings.redis
    if not redis.url:
        return None
    from storage.read_cache import RedisReadCache
    from storage.redis_client import make_redis

    password = redis.password.get_secret_value() if redis.password else None
    client = make_redis(redis.url, password=password, ssl=redis.ssl)  # TLS when ssl=true
    return RedisReadCache(client, settings.broker, prefix=redis.key_prefix, owns_client=True)


async def require_read_cache(cache: Any, settings: Settings) -> None:
    """A configured Redis that does not answer stops start-up with one line (exit 2)."""
    from storage.redis_client import RedisUnreachableError, require_reachable

    try:
        await require_reachable(cache.redis, settings.redis.url or "")
    except RedisUnreachableError as exc:
        raise ConfigError(str(exc)) from None


def singleton_wrapper(
    bus: EventBus,
    broker: Broker,
    on_active: Mapping[str, Callable[[], Awaitable[None]]] | None = None,
) -> Any:
    """On Kafka, feed / risk / execution / portfolio run in one process at a time (a lease).

    ``on_active[stage]`` runs each time this process takes that stage's lease, before the
    stage starts (live: execution halts there, not when a standby merely starts).
    """
    if not bus.shared_by_processes:
        return None
    hooks = dict(on_active or {})

    def wrap(stage: str, service: Any) -> Any:
        return bus.singleton(service, f"{broker.value}.{stage}", on_active=hooks.get(stage))

    return wrap


def build_registry(settings: Settings) -> InstrumentRegistry:
    path = settings.feed.instruments_csv
    if path is None:
        return load_default_registry()
    try:
        return load_registry(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load ALPHAPANDA_FEED__INSTRUMENTS_CSV={path}: {exc}") from None


def build_bindings(settings: Settings, registry: InstrumentRegistry) -> list[StrategyBinding]:
    try:
        configs = load_strategies(settings.strategies_file)
        bindings = build_strategies(configs, registry)
    except (StrategyConfigError, ValueError) as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    return [b for b in bindings if b.broker == settings.broker]


@dataclass
class Ports:
    """What a runtime was built on; tests and benchmarks pass their own."""

    bus: EventBus
    store: Any  # engine.ports.TradingStore


class EngineRuntime:
    """The embedded engine: start, stop, steer (implements ``backend.EngineHandle``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        log_ring: object | None = None,
        feed_factory: Any = None,
        ports: Ports | None = None,
        services: Collection[str] | None = None,
        read_clock: RunClock | None = None,
    ) -> None:
        """``read_clock``: the clock the console shows (default from the settings; a
        replay of a recorded day passes its own, see ``alphapanda_tui.replay_day``)."""
        self.settings = settings
        self.services = services  # None: all (see engine.pipeline.SERVICE_NAMES)
        self.read_cache: Any = None
        self.mode = settings.mode
        self.broker: Broker = settings.broker
        self.clock: Clock = clock or SystemClock()
        self.log_ring = log_ring
        self.read_model = ReadModel(clock=read_clock or engine_config.run_clock(settings))
        self.risk_limits = engine_config.risk_limits(settings)  # as pipeline_config builds them
        self.run_clock: Clock = self.clock  # the run's time; see _build_run_clock
        self.pipeline: Pipeline | None = None
        # kill, halt, resume, reduce and orders by hand: the one implementation every
        # console and the CLI share (instruments: the registry set just below)
        self.controls: OperatorControl = TradingOperator(
            self._running_control,
            before_resume=self._ready_to_resume,
            instruments=lambda key: self.registry.get(key),
        )
        # The console's venue: the live venue once started (live mode), else sessionless.
        self.venue: Venue = sessionless_venue(self.mode)
        self._live: TradingVenue | None = None
        self._feed_factory = feed_factory
        self._ports = ports
        self._owns_ports = ports is None
        self._store_detail = ""  # the database, as the health panel names it (set at start)
        self.registry = build_registry(settings)
        self.bindings = build_bindings(settings, self.registry)
        self.read_model.set_strategies(
            StrategyInfo(
                name=b.config.name,
                kind=b.config.kind,
                instruments=tuple(b.config.instruments),
            )
            for b in self.bindings
        )
        self.read_model.set_session(None, None)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        settings.ensure_home()
        ports = self._ports or await self._open_ports()
        self._ports = ports
        # Here, not in the first health probe: importing SQLAlchemy takes up to a second,
        # and the probe runs on the loop the console's kill key shares.
        from storage.database import describe_url

        self._store_detail = describe_url(settings.database.url or "")
        live = self._build_live(ports)
        left = MarketLeft()
        if live and self._feed_factory is None:
            feed = live.feed
        else:
            left = await self._market_left(ports)
            feed = self._build_feed(ports.bus, left)
        self.run_clock = self._build_run_clock(feed, left.after_ns)
        if self.run_clock is not self.clock and hasattr(self.log_ring, "stamp_with"):
            self.log_ring.stamp_with(self.run_clock)  # the viewer's times on the run's clock
        reader = ReadModelProcessor(
            bus=ports.bus,
            model=self.read_model,
            broker=self.broker,
            clock=self.clock,
            seed=ports.store,  # the day's orders, positions and P&L before the first tick
        )
        health = HealthReporter(
            bus=ports.bus,
            reporter=engine_config.instance_id(),
            sources=lambda: self.pipeline.health() if self.pipeline else [],
            probes=[self._probe_store, self._probe_bus],
            interval_s=settings.processing.health_interval_s,
            clock=self.clock,
        )
        # Live on Kafka: halt + reconcile when this process takes the execution lease.
        hooks = {"execution": live.on_execution_active} if live else None
        singleton = singleton_wrapper(ports.bus, self.broker, hooks)
        self.pipeline = Pipeline(
            config=engine_config.pipeline_config(settings),
            bus=ports.bus,
            store=ports.store,
            registry=self.registry,
            strategies=self.bindings,
            feed=feed,
            clock=self.clock,
            run_clock=self.run_clock,
            extra_services=[
                reader,
                health,
                ProcessedIdsPruner(
                    store=ports.store, retention_s=settings.processing.processed_retention_s
                ),
                *self._cache_writers(ports.bus),
                *self._funds_relay(ports.bus),
                *self._live_services(live, ports.bus),
                *self._tick_recorder(ports.bus),
            ],
            services=self.services,
            singleton=singleton,
            control_requests=ports.store,
            adapter=live.adapter if live else None,
            funds_check=live.funds_check if live else None,
            on_funds=self.read_model.set_funds,  # the console's funds line (paper)
        )
        if self.read_cache is not None:
            await require_read_cache(self.read_cache, settings)
        if live:
            live.attach(self.pipeline.control)
        state = self.pipeline.trading_state
        show_changes(state, self.read_model.apply_trading_state)  # the key's HALTED, at once
        await self.pipeline.start()
        if live:
            # Halts before any order can leave (see the venue); under a lease, the hook does.
            runs_execution = "execution" in parse_services(self.services)
            await live.on_started(runs_execution=runs_execution and singleton is None)
        for scope, mode in state.scopes().items():
            record = state.record(scope)
            self.read_model.set_trading_state(scope, mode, record.reason if record else "")
        _write_pid(settings.home)
        log.info("runtime started", extra={"mode": self.mode, "bus": ports.bus.backend})

    def _build_run_clock(self, feed: Service | None, resumed_ns: int | None = None) -> Clock:
        """The one clock of this run that trading-state changes, audit rows and the orders
        a restart closes carry: on a simulated or replayed market the newest event time
        (the feed's, or the read model's where another process runs the feed; before the
        first tick, where the previous run left the market, ``resumed_ns``), else the wall
        clock."""
        if not self.read_model.clock.follows_events:
            return self.clock
        model = self.read_model
        sources = [lambda: model.event_ns, lambda: resumed_ns]
        if feed is not None:
            sources.append(lambda: getattr(feed, "last_event_ts", None))
        return EventClock(sources, fallback=self.clock)

    def _build_live(self, ports: Ports) -> TradingVenue | None:
        """Live mode: the broker's venue (session, adapter, ticker, order updates), else None."""
        if self.mode != "live":
            return None
        from alphapanda_tui.venues import build_venue

        self._live = build_venue(
            self.broker,
            self.settings,
            bus=ports.bus,
            store=ports.store,
            registry=self.registry,
            bindings=self.bindings,
            read_model=self.read_model,
            clock=self.clock,
            health_probes=[self._probe_store, self._probe_bus],
        )
        self.venue = self._live
        return self._live

    def _live_services(self, live: TradingVenue | None, bus: EventBus) -> list[Service]:
        """The order-book poller, only where execution runs, and one per cluster.

        Every process polling Zerodha would spend the shared API rate limit and publish
        each venue update once per process; the venue updates matter to execution only.
        """
        if live is None or "execution" not in parse_services(self.services):
            return []
        wrap = singleton_wrapper(bus, self.broker)
        if wrap is None:
            return list(live.services)
        return [wrap("order_updates", service) for service in live.services]

    def _tick_recorder(self, bus: EventBus) -> list[Service]:
        """Where the feed runs, every tick it publishes is recorded (once per cluster)."""
        if "feed" not in parse_services(self.services):
            return []
        recorder = build_recorder(self.settings, bus, self.clock)
        if recorder is None:
            return []
        wrap = singleton_wrapper(bus, self.broker)
        return [wrap("ticks", recorder) if wrap else recorder]

    def _cache_writers(self, bus: EventBus) -> list[Service]:
        from engine.read_model.cache_writer import CacheWriter

        self.read_cache = build_read_cache(self.settings)
        if self.read_cache is None:
            return []
        return [CacheWriter(bus=bus, cache=self.read_cache, clock=self.clock)]

    def _funds_relay(self, bus: EventBus) -> list[Service]:
        """On a cluster, the process holding the venue (where execution runs) publishes
        the funds it reads, for attached consoles and the Redis read cache."""
        if self.settings.bus.backend != "kafka" or "execution" not in parse_services(self.services):
            return []
        from engine.read_model.funds_relay import FundsRelay

        return [FundsRelay(bus=bus, model=self.read_model, broker=self.broker)]

    async def _open_ports(self) -> Ports:
        from alphapanda_tui.store_opening import open_store

        store = await open_store(self.settings)
        bus = build_bus(self.settings)
        try:
            await bus.start()
        except Exception as exc:
            await store.aclose()
            raise ConfigError(str(exc)) from None
        await store.upsert_instruments(list(self.registry))
        return Ports(bus=bus, store=store)

    async def _last_event_ts(self, ports: Ports) -> int | None:
        """The newest market time this home has seen (``market_resume``), so the
        simulated market resumes after it rather than rewinding; None on a fresh home."""
        return (await self._market_left(ports)).after_ns

    async def _market_left(self, ports: Ports) -> MarketLeft:
        """Where a previous run left the simulated market: its time and each instrument's
        last price and previous close (nothing for another feed, or a fresh home)."""
        if self.settings.feed.source != "simulated" or self._feed_factory is not None:
            return MarketLeft()
        return await market_left(self.settings, ports.store, self.broker)

    def _build_feed(self, bus: EventBus, left: MarketLeft | None = None) -> Service | None:
        if self._feed_factory is not None:
            return self._feed_factory(bus, self.registry)
        feed = self.settings.feed
        if feed.source == "simulated":
            left = left or MarketLeft()
            config = engine_config.simulated_feed_config(
                self.settings,
                instruments=len(self.registry),
                resume_after_ns=left.after_ns,
                resume_prices=left.prices,
            )
            return SimulatedFeed(bus, self.registry, config, clock=self.clock)
        if feed.source == "replay":
            if feed.ticks_csv is None:
                raise ConfigError("ALPHAPANDA_FEED__TICKS_CSV is required for the replay feed")
            return ReplayFeed(
                bus,
                self.registry,
                feed.ticks_csv,
                clock=self.clock,
                price_band_pct=feed.price_band_pct,
            )
        return None  # "kite": the live feed is attached by the Zerodha session

    async def stop(self) -> None:
        if self.pipeline is not None:
            await self.pipeline.stop()
        if self._live is not None:
            await self._live.aclose()
        if self.read_cache is not None:
            await self.read_cache.aclose()
            self.read_cache = None
        if self._ports is not None and self._owns_ports:
            try:
                await self._ports.bus.aclose()
            except Exception as exc:  # closed all the same; the store must still close
                # Kafka: messages sent before the stop that the cluster never acknowledged
                # (OutputLostError, the broker down). Their inputs were not committed, so
                # the next start handles them again; a traceback here told the trader less.
                log.error(
                    "closing the bus: %s (an input whose outputs were lost was not committed: "
                    "the next start handles it again)",
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                )
            await self._ports.store.aclose()
        _remove_pid(self.settings.home)
        log.info("runtime stopped")

    # -- control -----------------------------------------------------------------------
    def _running_control(self) -> TradingControl | None:
        """The pipeline's control while the engine runs (``controls`` refuses otherwise)."""
        return self.pipeline.control if self.pipeline is not None else None

    async def _ready_to_resume(self, strategy: str | None) -> None:
        """Live: refuse ACTIVE for all trading while a pre-trading check fails."""
        if self._live is not None and strategy is None:
            await self._live.require_ready()

    async def record_audit(
        self, action: str, detail: Mapping[str, object], operator: str = ""
    ) -> None:
        """An operator action with no control command (acknowledging alerts) in the audit
        table, beside the kills and resumes the trading-state service records."""
        if self._ports is None:
            return
        record = AuditRecord(
            audit_ts=self.run_clock.now_ns(),
            actor=operator or "unknown",
            action=action,
            detail={"broker": self.broker.value, **detail},
        )
        await self._ports.store.add_audit(record)

    async def modifications_done(self, client_order_id: str) -> int | None:
        """How many modifications of the order were sent, from the audit log: the count
        ``alphapanda modify`` uses, so console and CLI share one cap. None when stopped."""
        if self._ports is None:
            return None
        return await modifications_done(self._ports.store, client_order_id)

    @property
    def global_mode(self) -> TradingMode:
        if self.pipeline is None:
            return TradingMode.ACTIVE
        return self.pipeline.trading_state.scope_mode(GLOBAL_SCOPE)

    # -- health probes -----------------------------------------------------------------
    async def _probe_store(self) -> ComponentHealth:
        assert self._ports is not None
        try:
            await self._ports.store.list_alerts(limit=1)
        except Exception as exc:
            return ComponentHealth(name="database", status=ComponentStatus.DOWN, detail=str(exc))
        return ComponentHealth(
            name="database", status=ComponentStatus.RUNNING, detail=self._store_detail
        )

    def _probe_bus(self) -> ComponentHealth:
        assert self._ports is not None
        bus = self._ports.bus
        lag = bus.total_lag()
        return ComponentHealth(
            name="bus", status=ComponentStatus.RUNNING, detail=bus.backend, lag=lag
        )


def build_runtime(settings: Settings, **kwargs: Any) -> EngineRuntime:
    """The console and the headless engine both start from here."""
    return EngineRuntime(settings, **kwargs)
