"""One broker's trading services wired on one bus: feed → strategies → risk → execution →
portfolio, with the trading-state service and the kill switch.

The console, the headless engine and backtests all build this same object, so a
backtest exercises exactly the code path of live trading. Storage and the feed are
passed in (ports), so the engine stays free of database and UI imports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from engine.bus.base import EventBus
from engine.clock import Clock, SystemClock
from engine.events.payloads import ComponentHealth
from engine.events.types import Broker, Product
from engine.execution.broker import BrokerAdapter
from engine.execution.funds import Funds, FundsCheck
from engine.execution.paper_funds import PaperFundsConfig, paper_funds_for
from engine.execution.service import ExecutionConfig, ExecutionService
from engine.instruments.freeze import FreezePolicy
from engine.instruments.registry import InstrumentRegistry
from engine.portfolio.service import PortfolioService
from engine.ports import TradingStore
from engine.processing import ProcessorConfig, Service, StreamProcessor, Supervisor
from engine.protection.service import ProtectionService
from engine.risk.limits import RiskLimits, StrategyPositionLimit
from engine.risk.manager import RiskManager
from engine.strategies.factory import StrategyBinding
from engine.strategies.runner import StrategyRunner
from engine.trading_state.control import TradingControl
from engine.trading_state.manual_outcomes import ManualOutcomes
from engine.trading_state.requests import ControlRequestPoller, RequestStore
from engine.trading_state.service import TradingStateService
from engine.trading_state.state import TradingState

log = logging.getLogger("alphapanda.engine")

# What ``--services`` names. ``state`` obeys control commands in every process; it is
# implied by risk and execution, which must see the kill switch. ``protection`` (stops and
# targets, engine.protection) is implied by risk: its exits are signals risk judges.
SERVICE_NAMES: tuple[str, ...] = (
    "feed",
    "strategies",
    "risk",
    "execution",
    "portfolio",
    "state",
    "protection",
)
# One per cluster: two feeds double every tick, risk limits and the portfolio are totals
# over all orders and fills, and the paper venue plus the kill switch's cancel-all live in
# one execution process. Strategies scale out by tick partition.
SINGLETON_SERVICES: frozenset[str] = frozenset(
    {"feed", "risk", "execution", "portfolio", "protection"}
)
Singleton = Callable[[str, Service], Service]


def parse_services(text: str | Collection[str] | None) -> frozenset[str]:
    """``"feed,strategies"`` → the chosen services (all when empty); raises ValueError."""
    if text is None:
        return frozenset(SERVICE_NAMES)
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    chosen = frozenset(n for n in names if n)
    unknown = sorted(chosen - set(SERVICE_NAMES))
    if unknown:
        raise ValueError(
            f"unknown service {', '.join(unknown)}; choose from {', '.join(SERVICE_NAMES)}"
        )
    if not chosen:
        return frozenset(SERVICE_NAMES)
    if chosen & {"risk", "execution"}:
        chosen |= {"state"}
    if "risk" in chosen:
        chosen |= {"protection"}
    return chosen


def with_strategy_sizes(
    limits: RiskLimits, strategies: Sequence[StrategyBinding], broker: Broker
) -> RiskLimits:
    """``limits`` plus each of ``broker``'s strategies' size and sign as a position limit
    (a limit already named in ``limits`` wins)."""
    sizes = {
        b.name: StrategyPositionLimit(b.strategy.quantity, b.strategy.allow_short)
        for b in strategies
        if b.broker is broker
    }
    if not sizes:
        return limits
    return replace(limits, strategy_positions={**sizes, **limits.strategy_positions})


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the services need besides their ports; built from settings at the edge."""

    broker: Broker = Broker.PAPER
    instance_id: str = "local"
    risk: RiskLimits = field(default_factory=RiskLimits)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    starting_cash: Decimal = Decimal("1000000")
    snapshot_interval_s: float = 5.0
    processing: ProcessorConfig = field(default_factory=ProcessorConfig)
    acts_on_orders: bool = True  # False for an attached console: it must not cancel orders
    # The paper venue's funds (cash, margin, the pre-trade funds rule); None: no funds
    # model (the live venue's check comes from Kite; see ``funds_check``).
    paper_funds: PaperFundsConfig | None = None
    default_product: Product = Product.MIS  # the product strategies' orders carry


class Pipeline:
    """Builds, starts, drains and stops the services of one broker."""

    def __init__(
        self,
        *,
        config: PipelineConfig,
        bus: EventBus,
        store: TradingStore,
        registry: InstrumentRegistry,
        strategies: Sequence[StrategyBinding],
        feed: Service | None = None,
        adapter: BrokerAdapter | None = None,
        clock: Clock | None = None,
        run_clock: Clock | None = None,
        extra_services: Sequence[Service] = (),
        services: Collection[str] | None = None,
        singleton: Singleton | None = None,
        funds_check: FundsCheck | None = None,
        control_requests: RequestStore | None = None,
        on_funds: Callable[[Funds], None] | None = None,
    ) -> None:
        """``services``: run only these (see ``SERVICE_NAMES``; None: all). ``singleton``
        wraps each of ``SINGLETON_SERVICES`` so one process at a time runs it (a lease).
        ``run_clock`` (default ``clock``): the run's time on trading-state changes and their
        audit rows, the simulated market's clock on SIM (``engine.clock.EventClock``).
        ``control_requests``: where ``alphapanda kill`` and its siblings leave requests for
        this engine (the audit log); None: nobody outside this process asks.
        ``on_funds``: told the paper venue's funds (cash, margin) now and after every
        change, e.g. the console's funds line; unused on a live venue (Kite's margins)."""
        self.config = config
        self.bus = bus
        self.store = store
        self.registry = registry
        self.clock = clock or SystemClock()
        self.run_clock = run_clock or self.clock
        broker = config.broker
        self.trading_state = TradingState(broker)
        self.control = TradingControl(
            bus, self.trading_state, broker, self.clock, run_clock=self.run_clock
        )
        proc = config.processing

        def tick_size_of(token: int) -> Decimal | None:
            instrument = registry.get_by_token(token)
            return instrument.tick_size if instrument is not None and instrument.tick_size else None

        self.feed = feed
        self.runner = StrategyRunner(
            bus,
            list(strategies),
            config=proc,
            clock=self.clock,
            store=store,
            product=config.default_product,
            calendar=config.risk.calendar,
        )
        self.risk = RiskManager(
            bus=bus,
            broker=broker,
            limits=with_strategy_sizes(config.risk, strategies, broker),
            trading_state=self.trading_state,
            known_instruments=lambda token: registry.get_by_token(token) is not None,
            instrument_of=registry.get_by_token,
            store=store,
            config=proc,
            clock=self.clock,
        )
        self.paper_funds = paper_funds_for(config, broker, funds_check, self.clock, on_funds)
        self.execution = ExecutionService(
            bus=bus,
            broker=broker,
            store=self.paper_funds.watch(store) if self.paper_funds else store,
            trading_state=self.trading_state,
            adapter=adapter,
            funds_check=self.paper_funds or funds_check,
            settings=config.execution,
            tick_size_of=tick_size_of,
            mis_cutoffs=config.risk.mis_cutoffs,
            config=proc,
            clock=self.clock,
            run_clock=self.run_clock,
        )
        self.risk.restores_working = not self.execution.adapter.book_lost_on_restart
        if self.paper_funds is not None:
            self.paper_funds.bind(self.execution)
            if on_funds is not None:
                on_funds(self.paper_funds.figures())  # the figures it starts from
        _slice_orders(self.execution.adapter, config.risk.freeze, registry)
        self.portfolio = PortfolioService(
            broker=broker,
            bus=bus,
            store=store,
            starting_cash=config.starting_cash,
            config=replace(proc, timer_interval=config.snapshot_interval_s),
            clock=self.clock,
        )
        self.state_service = TradingStateService(
            bus=bus,
            state=self.trading_state,
            instance_id=config.instance_id,
            store=store,
            acts_on_orders=config.acts_on_orders,
            config=proc,
            dedup=store,
            clock=self.clock,
            run_clock=self.run_clock,
        )
        self.protection = ProtectionService(
            bus=bus,
            broker=broker,
            store=store,
            trading_state=self.trading_state,
            tick_size_of=tick_size_of,
            default_product=config.default_product,
            config=proc,
            clock=self.clock,
        )
        # Stop order: sources first, so every later stage can drain what is in flight.
        self.selected = parse_services(services)
        self.state_service.alarms_here = _nowhere  # unless execution runs here (below)
        stages: list[tuple[str, Service | None]] = [
            ("feed", feed),
            ("strategies", self.runner),
            ("risk", self.risk),
            ("execution", self.execution),
            ("portfolio", self.portfolio),
            ("state", self.state_service),
            ("protection", self.protection),
        ]
        ordered: list[Service] = []
        for stage, service in stages:
            if service is None or stage not in self.selected:
                continue
            if singleton is not None and stage in SINGLETON_SERVICES:
                service = singleton(stage, service)
            if stage == "execution":
                self._keep_alarms_where(service, store)
            ordered.append(service)
        ordered += extra_services
        if control_requests is not None:
            ordered.append(self._control_request_poller(control_requests))
            if "risk" in self.selected:  # risk's refusals of manual orders, for the CLI
                ordered.append(
                    ManualOutcomes(bus=bus, broker=broker, store=control_requests, clock=self.clock)
                )
        self.services: list[Service] = ordered
        self.supervisor = Supervisor(ordered, is_outage=bus.is_outage)
        self._started = False

    def _keep_alarms_where(self, execution: Service, store: TradingStore) -> None:
        """The alarms raised outside execution (a dead token's halt, the kill switch's)
        are stored by the process running ``execution``; under a lease, only while this
        process holds it. On Kafka every engine may see the token die and every one obeys
        the kill, yet the cluster stores each alarm once."""
        if not self.config.acts_on_orders:  # an attached console
            return

        def here() -> bool:
            return bool(getattr(execution, "active", True))  # a lease's holder, or always

        self.control.alarms = store
        self.control.alarms_here = here
        self.state_service.alarms_here = here

    def _control_request_poller(self, store: RequestStore) -> ControlRequestPoller:
        """Applies operators' requests from ``store``; where execution runs here, a kill is
        acknowledged once no order is between its last check and its stored outcome."""
        executes = "execution" in self.selected
        return ControlRequestPoller(
            store=store,
            control=self.control,
            broker=self.config.broker.value,
            clock=self.clock,
            sends_idle=self.execution.wait_sends_idle if executes else None,
            instance=f"engine {self.config.instance_id}",
            instruments=self.registry.get,
        )

    @property
    def processors(self) -> list[StreamProcessor]:
        return [s for s in self.services if isinstance(s, StreamProcessor)]

    async def start(self) -> None:
        """Restore the persisted trading state first, so a killed engine restarts halted."""
        self.trading_state.load(await self.store.load_trading_states(self.config.broker))
        self.supervisor.start()
        self._started = True
        log.info(
            "engine started",
            extra={"broker": self.config.broker.value, "services": [s.name for s in self.services]},
        )

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until every processor has joined its consumer group."""
        async with asyncio.timeout(timeout):
            while any(p.status.value == "stopped" for p in self.processors):
                await asyncio.sleep(0.01)

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing published is still unhandled here (``EventBus.has_lag``: the
        memory bus; on Kafka each processor drains its own input); True when drained."""
        has_lag = self.bus.has_lag
        try:
            async with asyncio.timeout(timeout):
                while has_lag():
                    await asyncio.sleep(0.005)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 10.0) -> None:
        """Graceful: stop the feed, let each stage drain in order, final snapshot on the way."""
        if not self._started:
            return
        self._started = False
        if self.feed is not None:
            self.feed.stop()
        await self.drain(timeout)
        await self.supervisor.stop(timeout)
        log.info("engine stopped", extra={"broker": self.config.broker.value})

    def health(self) -> list[ComponentHealth]:
        return self.supervisor.health()


def _slice_orders(
    adapter: BrokerAdapter, policy: FreezePolicy, registry: InstrumentRegistry
) -> None:
    """Tell the venue how an order above its freeze quantity splits: live sends it with
    Kite's autoslice and cancels it leg by leg, paper imitates the legs."""

    def legs_of(token: int, quantity: int) -> list[int]:
        return policy.legs_of(registry.get_by_token(token), quantity)

    venue = getattr(adapter, "broker", adapter)  # the paper adapter wraps its order book
    slice_with = getattr(venue, "slice_with", None)
    if callable(slice_with):
        slice_with(legs_of)


def _nowhere() -> bool:
    return False
