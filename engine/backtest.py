"""Backtests: replay ticks through the live pipeline, unpaced, and summarise the outcome.

No vectorised shortcut: a backtest builds the same ``Pipeline`` the console runs
(strategy runner → risk → paper execution → portfolio, on a ``MemoryBus`` with the
``MemoryTradingStore``; in lockstep on an ``InlineBus`` whose stages ``engine.lockstep``
runs inline), feeds it from a seeded ``SimulatedFeed``, a ``ReplayFeed`` or any iterable
of ticks (``TickStream``) with pacing off, drains it, then reads the result from the
portfolio book. The CLI (``alphapanda backtest``), the benchmarks and the tests all call
``run_backtest``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.backtest_report.equity import EquityCurve, EquitySampler
from engine.backtest_report.trades import InstrumentPnl, RoundTrip, instrument_pnl, round_trips
from engine.bus.base import EventBus
from engine.bus.inline import InlineBus
from engine.bus.memory import MemoryBus
from engine.clock import IST, SystemClock, ns_to_datetime
from engine.domain.records import OrderRecord, RiskAlertRecord
from engine.events.types import OrderStatus, Severity
from engine.gc_tuning import BACKTEST_THRESHOLDS, GcTuning
from engine.instruments.registry import InstrumentRegistry
from engine.lockstep import LockstepDriver
from engine.market.feeds.base import FeedService
from engine.market.feeds.replay import DEFAULT_PRICE_BAND_PCT, ReplayFeed
from engine.market.feeds.simulated import SimulatedFeed, SimulatedFeedConfig
from engine.market.feeds.stream import TickItems, TickStreamFeed
from engine.market.sessions import TradingDays
from engine.memory_store import MemoryTradingStore
from engine.memory_use import peak_rss_mb
from engine.pipeline import Pipeline, PipelineConfig
from engine.portfolio.book import PortfolioBook
from engine.portfolio.day import DayResult
from engine.strategies.factory import StrategyBinding
from engine.trading_state.alarms import is_automatic_halt
from engine.trading_state.state import GLOBAL_SCOPE

ProgressFn = Callable[[int], None]  # called with the number of ticks published so far
_PROGRESS_INTERVAL_S = 0.1
# Ticks between equity samples at the most: lockstep (--sync-every 1) drains after every
# tick, and valuing the book each time cost 5 % of its throughput.
EQUITY_SAMPLE_TICKS = 256


@dataclass(frozen=True, slots=True)
class SyntheticTicks:
    """``count`` ticks of the seeded random walk over ``instruments`` ("NSE:INFY" keys)."""

    count: int
    seed: int = 7
    instruments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"synthetic tick count must be positive, got {self.count}")


@dataclass(frozen=True, slots=True)
class TickFile:
    """Recorded ticks in a CSV file (plain or gzipped); see ``engine.market.feeds.replay``."""

    path: Path
    price_band_pct: Decimal = DEFAULT_PRICE_BAND_PCT


@dataclass(frozen=True, slots=True)
class TickStream:
    """Ticks from any iterable (rejected rows become dead letters): a recorded day or a
    columnar tick file that the composition root loads, since the engine never reads the
    store. ``open_ticks`` is called when the run starts, so loading is part of its time."""

    open_ticks: Callable[[], TickItems]
    label: str


TickSource = SyntheticTicks | TickFile | TickStream


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Counts and money of one backtest; money is Decimal, straight from the portfolio book."""

    strategy: str
    ticks: int
    seconds: float
    cpu_seconds: float
    signals: int
    orders: int
    fills: int
    rejections: int
    dead_letters: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    charges: Decimal
    equity_start: Decimal
    equity_end: Decimal
    max_rss_mb: float
    seed: int | None = None
    source: str = ""
    open_orders: int = 0  # still working when the replay ended (limit orders never reached)
    days: tuple[dict[str, Any], ...] = ()  # per trading day: P&L, orders, fills, halts
    halts: tuple[dict[str, Any], ...] = ()  # automatic halts: time, scope, rule, reason, lifted
    rejections_by_reason: dict[str, int] = field(default_factory=dict)
    # For the report (``engine.backtest_report``), not in ``as_dict``: round trips, P&L
    # per instrument, and the equity curve sampled each time the pipeline drained.
    trades: tuple[RoundTrip, ...] = ()
    instruments: tuple[InstrumentPnl, ...] = ()
    equity_curve: EquityCurve | None = None

    @property
    def ticks_per_s(self) -> float:
        return self.ticks / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: money as strings (exact), rates rounded."""
        return {
            "strategy": self.strategy,
            "source": self.source,
            "seed": self.seed,
            "ticks": self.ticks,
            "seconds": round(self.seconds, 3),
            "ticks_per_s": round(self.ticks_per_s),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "signals": self.signals,
            "orders": self.orders,
            "fills": self.fills,
            "open_orders": self.open_orders,
            "rejections": self.rejections,
            "dead_letters": self.dead_letters,
            "realized_pnl": str(self.realized_pnl),
            "unrealized_pnl": str(self.unrealized_pnl),
            "charges": str(self.charges),
            "equity_start": str(self.equity_start),
            "equity_end": str(self.equity_end),
            "max_rss_mb": self.max_rss_mb,
            "rejections_by_reason": dict(self.rejections_by_reason),
            "halts": [dict(h) for h in self.halts],
            "days": [dict(d) for d in self.days],
        }


class BacktestStore(MemoryTradingStore):
    """The in-memory store, counting what a summary needs as the pipeline writes it.

    Orders and fills are kept as in any store (execution and portfolio read them back);
    only the counters are added, so the pipeline's code path is unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self.orders_written = 0
        self.risk_rejections = 0
        self.rejections_by_rule: Counter[str] = Counter()
        self.rejection_times: list[int] = []  # event time of each risk rejection
        self.halt_alerts: list[RiskAlertRecord] = []  # CRITICAL: automatic halts
        self.resume_alerts: list[RiskAlertRecord] = []  # INFO: automatic lifts

    async def insert_order(self, order: OrderRecord, processed: Any = None) -> bool:
        inserted = await super().insert_order(order, processed)
        self.orders_written += inserted
        return inserted

    async def add_alert(self, alert: RiskAlertRecord) -> None:
        # Risk stores one WARNING per refused signal; automatic halts are CRITICAL and
        # their lifts INFO; other CRITICAL alarms (a held MIS square-off) are no halt.
        # Kept here too: the store keeps only the newest alerts.
        if alert.severity is Severity.WARNING:
            self.risk_rejections += 1
            self.rejections_by_rule[alert.rule] += 1
            self.rejection_times.append(alert.alert_ts)
        elif is_automatic_halt(alert):
            self.halt_alerts.append(alert)
        elif alert.severity is not Severity.CRITICAL:
            self.resume_alerts.append(alert)
        await super().add_alert(alert)

    def rejected_orders(self) -> int:
        return sum(1 for o in self.orders.values() if o.status is OrderStatus.REJECTED)

    def fill_count(self) -> int:
        return len(self.fills)


_NO_CLOCK_POLL_S = 86_400.0  # stages wait for input or a stop, never for a wall clock


def backtest_pipeline_config(base: PipelineConfig | None = None) -> PipelineConfig:
    """``base`` (or the defaults) with nothing driven by the wall clock: a backtest's
    results must not depend on how fast the machine replays (fills still emit a snapshot
    each). A poll that timed out would change which stage runs next, and so, within the
    ``sync_every`` window, which tick a fill lands on: a loaded machine would trade
    differently. Stages therefore wait for input without a timeout, and ``stop()``
    interrupts the wait, so a backtest still stops in milliseconds."""
    base = base or PipelineConfig()
    processing = replace(base.processing, poll_timeout=_NO_CLOCK_POLL_S)
    return replace(
        base, snapshot_interval_s=_NO_CLOCK_POLL_S, instance_id="backtest", processing=processing
    )


async def run_backtest_async(
    *,
    bindings: Sequence[StrategyBinding],
    registry: InstrumentRegistry,
    source: TickSource,
    config: PipelineConfig | None = None,
    progress: ProgressFn | None = None,
    bus_partitions: int = 4,
    bus_capacity: int = 10_000,
    drain_timeout: float = 600.0,
    sync_every: int | None = 1,
    store: Any = None,
    inline: bool = True,
) -> BacktestResult:
    """Run one backtest inside the current event loop (see ``run_backtest``).

    ``sync_every``: the feed waits for the whole pipeline to drain after that many ticks.
    1 (the default) is lockstep: every tick is handled by every stage before the next, as
    in live trading, so a fill lands on its signal's tick. More is faster, but risk and
    execution may then be up to that many ticks behind the strategies: fills land late
    and a strategy can signal again before it hears of its fill (on 5-minute candles at
    256, most round trips opened and closed on one tick). None only yields. Lockstep
    runs on an ``InlineBus`` whose ``LockstepDriver`` runs the stages' steps inline, in
    the event loop's order (``engine.lockstep``): the same results without a round trip
    per stage; any other value runs on a ``MemoryBus``. ``inline`` False: lockstep on
    the ``MemoryBus`` too, a task per stage (the reference the driver is tested against).
    ``store``: a ``BacktestStore`` (default) or another store with its counters
    (``orders_written``, ``risk_rejections``, ``rejected_orders()``, ``fill_count()``).
    """
    if not bindings:
        raise ValueError("a backtest needs at least one strategy")
    inline_bus = InlineBus(bus_partitions, bus_capacity) if inline and sync_every == 1 else None
    bus: EventBus = inline_bus or MemoryBus(partitions=bus_partitions, capacity=bus_capacity)
    store = store if store is not None else BacktestStore()
    pipeline_config = backtest_pipeline_config(config)
    feed = _build_feed(bus, registry, source, bindings)
    pipeline = Pipeline(
        config=pipeline_config,
        bus=bus,
        store=store,
        registry=registry,
        strategies=bindings,
        feed=None,  # started by hand once every consumer group has joined
        clock=SystemClock(),
    )
    sampler = EquitySampler()
    driver: LockstepDriver | None = None
    if inline_bus is not None:
        driver = LockstepDriver(inline_bus, pipeline.processors)
        book = pipeline.portfolio.book
        driver.after_every(EQUITY_SAMPLE_TICKS, lambda: _sample_equity(feed, book, sampler))
        feed.pause_every(1, driver.turn, driver.turn_now)
    elif sync_every is not None:
        sample_every = max(1, EQUITY_SAMPLE_TICKS // sync_every)  # pauses between samples
        feed.pause_every(
            sync_every, _drained(bus, feed, pipeline.portfolio.book, sampler, sample_every)
        )
    await bus.start()
    await pipeline.start()
    await pipeline.wait_ready()
    if driver is not None:
        driver.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    feed_task = asyncio.create_task(feed.run(), name=f"backtest:{feed.name}")
    try:
        await _follow(feed, feed_task, progress)
        await feed_task  # a feed failure (e.g. an unreadable file) surfaces here
        if driver is not None:
            await driver.finish()
        if not await pipeline.drain(drain_timeout):
            raise TimeoutError(f"the pipeline did not drain within {drain_timeout:.0f} s")
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        book = pipeline.portfolio.book
        _sample_equity(feed, book, sampler)
        result = BacktestResult(
            strategy=",".join(b.name for b in bindings),
            ticks=feed.published,
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            signals=pipeline.runner.signals_emitted,
            orders=store.orders_written,
            fills=store.fill_count(),
            rejections=store.risk_rejections + store.rejected_orders(),
            dead_letters=feed.dead_lettered
            + sum(p.stats.dead_lettered for p in pipeline.processors),
            realized_pnl=book.realized_pnl,
            unrealized_pnl=book.unrealized_pnl,
            charges=book.charges,
            equity_start=book.starting_cash,
            equity_end=book.equity,
            max_rss_mb=peak_rss_mb(),
            seed=source.seed if isinstance(source, SyntheticTicks) else None,
            source=_describe(source),
            open_orders=len(pipeline.execution.working),
            equity_curve=sampler.curve(),
        )
        if isinstance(store, BacktestStore):
            days = TradingDays(pipeline_config.risk.calendar)
            history = book.days_so_far()
            result = replace(
                result,
                days=tuple(_days_of(store, days, history)),
                halts=tuple(_halts_of(store, days)),
                rejections_by_reason=_rejections_of(store),
                trades=tuple(round_trips(store.fills.values(), book.marks)),
                instruments=tuple(instrument_pnl(store.fills.values(), book.marks)),
            )
    finally:
        feed.stop()
        if not feed_task.done():
            feed_task.cancel()
        if driver is not None:
            driver.release()
        await pipeline.stop()
        await bus.aclose()
    if progress is not None:
        progress(result.ticks)
    return result


def _iso_time(ts_ns: int) -> str:
    return ns_to_datetime(ts_ns, IST).isoformat(timespec="seconds")


def _rejections_of(store: BacktestStore) -> dict[str, int]:
    """Risk's refusals by rule, and the venue's as ``broker_rejected``."""
    counts = dict(sorted(store.rejections_by_rule.items()))
    broker = store.rejected_orders()
    if broker:
        counts["broker_rejected"] = broker
    return counts


def _halts_of(store: BacktestStore, days: TradingDays) -> list[dict[str, Any]]:
    """Each automatic halt, with the time its automatic lift came (None: it held)."""
    lifts = sorted(a.alert_ts for a in store.resume_alerts)
    halts = []
    for alert in sorted(store.halt_alerts, key=lambda a: a.alert_ts):
        lifted = next((ts for ts in lifts if ts >= alert.alert_ts), None)
        halts.append(
            {
                "time": _iso_time(alert.alert_ts),
                "day": days.window(alert.alert_ts).label,
                "scope": GLOBAL_SCOPE,
                "rule": alert.rule,
                "reason": alert.message,
                "lifted": None if lifted is None else _iso_time(lifted),
            }
        )
    return halts


def _days_of(
    store: BacktestStore, days: TradingDays, results: list[DayResult]
) -> list[dict[str, Any]]:
    """Per trading day: the book's P&L and what happened that day, by event time."""
    counts: dict[str, Counter[str]] = {r.day: Counter() for r in results}

    def count(ts: int, what: str) -> None:
        counts.setdefault(days.window(ts).label, Counter())[what] += 1

    for order in store.orders.values():
        count(order.created_ts, "orders")
    for fill in store.fills.values():
        count(fill.fill_ts, "fills")
    for ts in store.rejection_times:
        count(ts, "rejections")
    for alert in store.halt_alerts:
        count(alert.alert_ts, "halts")
    money = {r.day: r for r in results}
    rows = []
    for day in sorted(counts):
        result = money.get(day)
        row: dict[str, Any] = {"day": day}
        if result is not None:
            row |= {
                "pnl": str(result.pnl),
                "realized_pnl": str(result.realized_pnl),
                "unrealized_pnl": str(result.unrealized_pnl),
                "charges": str(result.charges),
            }
        row |= {k: counts[day][k] for k in ("orders", "fills", "rejections", "halts")}
        rows.append(row)
    return rows


def _drained(
    bus: EventBus,
    feed: FeedService,
    book: PortfolioBook,
    sampler: EquitySampler,
    sample_every: int,
) -> Callable[[], Awaitable[None]]:
    """A pause that returns once every consumer group has committed all it was sent, and
    at every ``sample_every``-th offers the book's equity to the curve: drained, it is the
    same at every run."""
    has_lag = bus.has_lag
    pauses = 0

    async def wait() -> None:
        nonlocal pauses
        await asyncio.sleep(0)
        while has_lag():
            await asyncio.sleep(0)
        pauses += 1
        if pauses % sample_every == 0:
            _sample_equity(feed, book, sampler)

    return wait


def _sample_equity(feed: FeedService, book: PortfolioBook, sampler: EquitySampler) -> None:
    """Offer the book's equity at its event time; the first offer is preceded by the
    starting cash at the first tick's time (not the session's open, before any price),
    the peak a drawdown is first measured from."""
    first = feed.first_event_ts
    if book.event_ns < 0 or first is None:
        return
    if sampler.empty:
        sampler.offer(first, book.starting_cash)
    sampler.offer(book.event_ns, book.equity)


def run_backtest(**kwargs: Any) -> BacktestResult:
    """Run a backtest in a fresh event loop; arguments as ``run_backtest_async``.

    With the collector tuned (``GcTuning``): what is built before the run is frozen, and
    the run's collections, each walking everything it keeps, become rare. Collections
    never change a result; they only cost time.
    """
    tuning = GcTuning(BACKTEST_THRESHOLDS)
    tuning.apply()
    try:
        return asyncio.run(run_backtest_async(**kwargs))
    finally:
        tuning.restore()


async def _follow(feed: FeedService, task: asyncio.Task[None], progress: ProgressFn | None) -> None:
    """Wait for the feed to finish, reporting progress every ``_PROGRESS_INTERVAL_S``."""
    if progress is None:
        await asyncio.wait([task])
        return
    while not task.done():
        await asyncio.wait([task], timeout=_PROGRESS_INTERVAL_S)
        progress(feed.published)


def _build_feed(
    bus: EventBus,
    registry: InstrumentRegistry,
    source: TickSource,
    bindings: Sequence[StrategyBinding],
) -> FeedService:
    """Unpaced feed; a synthetic one ticks only the instruments the strategies trade."""
    if isinstance(source, TickFile):
        return ReplayFeed(
            bus, registry, source.path, ticks_per_second=None, price_band_pct=source.price_band_pct
        )
    if isinstance(source, TickStream):
        return TickStreamFeed(bus, source.open_ticks)
    keys = source.instruments or tuple(
        dict.fromkeys(i.key for b in bindings for i in b.instruments)
    )
    config = SimulatedFeedConfig(
        seed=source.seed,
        instruments=keys,
        ticks_per_second=None,
        max_ticks=source.count,
    )
    return SimulatedFeed(bus, registry, config)


def _describe(source: TickSource) -> str:
    if isinstance(source, TickFile):
        return f"file:{source.path}"
    if isinstance(source, TickStream):
        return source.label
    return f"synthetic:{source.count}"
