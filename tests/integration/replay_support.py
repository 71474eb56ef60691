"""A recorded day for replay tests: a seeded simulated paper session, recorded through the
real tick recorder into ``<home>/ticks``, and the orders that session made.

The recording session runs in lockstep (each tick through the whole pipeline before the
next), as a replay always does, so "the replay reproduces the session" is a property of
the engine, not of how loaded the machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

from alphapanda_tui.replay_day import build_replay_runtime
from alphapanda_tui.runtime import EngineRuntime, Ports
from alphapanda_tui.settings import Settings, load_settings
from alphapanda_tui.store_opening import open_store
from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.domain.records import OrderRecord
from engine.events.types import Broker, OrderStatus
from engine.instruments import InstrumentRegistry
from engine.market.feeds.simulated import SimulatedFeed, SimulatedFeedConfig
from engine.memory_store import MemoryTradingStore
from storage.ticks.recorder import RecorderConfig, TickRecorder
from tests.helpers import eventually

DAY = date(2026, 12, 4)  # a Friday: the session's ticks are inside market hours
TRADED = ("NSE:INFY", "NSE:TCS", "NSE:SBIN", "NSE:ITC")
RECORDED_TICKS = 600
HUGE = "1000000000000"
STRATEGIES_YAML = """\
strategies:
  - name: momo
    kind: momentum
    params: {lookback: 3, threshold: 0.001, quantity: 1, allow_short: true}
    instruments: [NSE:INFY, NSE:TCS]
  - name: revert
    kind: mean_reversion
    params: {window: 5, entry_z: 1.0, exit_z: 0.2, quantity: 1, allow_short: true}
    instruments: [NSE:SBIN, NSE:ITC]
"""
OrderLine = tuple[int, str, str, str, int, str, OrderStatus, int, Decimal | None]


def replay_test_settings(home: Path) -> Settings:
    """Paper, two quick strategies, limits wide enough that risk refuses nothing by size."""
    strategies = home / "strategies.yaml"
    home.mkdir(parents=True, exist_ok=True)
    strategies.write_text(STRATEGIES_YAML)
    return load_settings(
        home=home,
        strategies_file=strategies,
        risk={
            "max_order_value": HUGE,
            "max_position_value": HUGE,
            "max_gross_exposure": HUGE,
            "max_daily_loss": HUGE,
            "max_orders_per_second": 1_000,
        },
        portfolio={"snapshot_interval_s": 3600, "starting_cash": HUGE},
        bus={"partitions": 1},
    )


def lockstep(bus: MemoryBus) -> Callable[[], Awaitable[None]]:
    """A feed pause that returns once every consumer has handled everything published."""

    async def drained() -> None:
        await asyncio.sleep(0)
        while bus.has_lag():
            await asyncio.sleep(0)

    return drained


def order_lines(orders: Iterable[OrderRecord]) -> list[OrderLine]:
    """Each order as a trader compares two sessions: when, who, what, how it ended.

    Ids are left out: a signal's id derives from its tick's event id, new in every run.
    """
    lines = [
        (
            o.created_ts,
            o.strategy,
            o.symbol,
            o.side.value,
            o.quantity,
            o.order_type.value,
            o.status,
            o.filled_quantity,
            o.average_price,
        )
        for o in orders
    ]
    return sorted(lines, key=lambda line: (line[0], line[1], line[2]))


async def record_session(home: Path) -> list[OrderLine]:
    """Run the seeded session on paper with the recorder on, to the last tick; its orders."""
    settings = replay_test_settings(home)
    bus = MemoryBus(partitions=1)
    store = MemoryTradingStore()

    def feed(bus_: EventBus, registry: InstrumentRegistry) -> SimulatedFeed:
        config = SimulatedFeedConfig(
            seed=11,
            instruments=TRADED,
            start_date=DAY,
            ticks_per_second=None,
            max_ticks=RECORDED_TICKS,
        )
        simulated = SimulatedFeed(bus_, registry, config)
        simulated.pause_every(1, lockstep(bus))
        return simulated

    recorder = TickRecorder(bus=bus, config=RecorderConfig(root=home / "ticks"))
    recording = asyncio.create_task(recorder.run())
    await eventually(lambda: recorder.subscription is not None, message="recorder not up")
    runtime = EngineRuntime(settings, feed_factory=feed, ports=Ports(bus=bus, store=store))
    await runtime.start()
    try:
        await eventually(lambda: _finished(runtime), timeout=60, message="session not over")
        await lockstep(bus)()
    finally:
        await runtime.stop()
        recorder.stop()
        await recording
    assert recorder.recorded == RECORDED_TICKS
    return order_lines(store.orders.values())


async def replay_orders(home: Path) -> list[OrderLine]:
    """Replay the recorded day at max speed to its end on its own store (the console's
    ``--replay DATE --speed max``); the orders that store holds."""
    runtime = build_replay_runtime(replay_test_settings(home), DAY.isoformat(), speed=None)
    await runtime.start()
    try:
        await eventually(lambda: runtime.replay is not None and runtime.replay.ended, timeout=120)
        assert runtime.replay is not None
        assert runtime.replay.published == RECORDED_TICKS
    finally:
        await runtime.stop()
    store = await open_store(runtime.settings)
    try:
        return order_lines(await store.list_orders(Broker.PAPER, limit=10_000))
    finally:
        await store.aclose()


def _finished(runtime: EngineRuntime) -> bool:
    feed = runtime.pipeline.feed if runtime.pipeline is not None else None
    return isinstance(feed, SimulatedFeed) and feed.finished.is_set()
