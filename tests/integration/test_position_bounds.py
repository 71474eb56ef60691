"""No sequence of crashes, halts, resumes and restarts stacks or flips a strategy's position.

The whole paper pipeline runs in-process on a memory bus over one in-memory store that
outlives every run (the database of a real engine). Hypothesis draws the trader's day:
trending ticks, a kill, a strategy halt, a resume, a graceful restart, a crash (every
task cancelled mid-flight, in-flight events lost). After each step, and after the last,
every strategy's position is within its size, and a long-only strategy is never short.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.bus.memory import MemoryBus
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import Tick
from engine.events.types import Broker, EventType
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing.processor import ProcessorConfig
from engine.risk.limits import RiskLimits
from engine.strategies import build_strategies, parse_strategies

REGISTRY = load_default_registry()
RELIANCE = REGISTRY.by_key("NSE:RELIANCE")
SIZES = {"ema-long": (5, False), "rsi-long": (7, False), "ema-both": (3, True)}
STRATEGIES = [
    {
        "name": "ema-long",
        "kind": "ema_cross",
        "params": {"fast": 2, "slow": 4, "quantity": 5},
        "instruments": ["NSE:RELIANCE"],
    },
    {  # RSI wishes LONG on every oversold tick: the hardest case for stacking
        "name": "rsi-long",
        "kind": "rsi",
        "params": {"period": 3, "oversold": 40, "overbought": 60, "quantity": 7},
        "instruments": ["NSE:RELIANCE"],
    },
    {
        "name": "ema-both",
        "kind": "ema_cross",
        "params": {"fast": 2, "slow": 4, "quantity": 3, "allow_short": True},
        "instruments": ["NSE:RELIANCE"],
    },
]
MON_10AM = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))
LIMITS = RiskLimits(max_open_orders=None, max_orders_per_second=None)


@dataclass
class Market:
    """Event time and price that continue across runs, as the journal's clock does."""

    ts: int = MON_10AM
    price: Decimal = Decimal("1400.00")
    published: int = field(default=0)

    def next_tick(self, step: Decimal) -> Tick:
        self.ts += NS_PER_S
        self.price = max(Decimal("100.00"), self.price + step)
        return Tick(
            instrument_token=RELIANCE.instrument_token,
            symbol="NSE:RELIANCE",
            last_price=self.price,
            exchange_ts=self.ts,
        )


class Run:
    """One engine process: a fresh bus and pipeline (strategies start from nothing)."""

    def __init__(self, store: MemoryTradingStore) -> None:
        self.bus = MemoryBus(partitions=2)
        self.pipeline = Pipeline(
            config=PipelineConfig(
                broker=Broker.PAPER,
                risk=LIMITS,
                snapshot_interval_s=3600.0,
                processing=ProcessorConfig(poll_timeout=0.01),
            ),
            bus=self.bus,
            store=store,
            registry=REGISTRY,
            strategies=build_strategies(parse_strategies(STRATEGIES), REGISTRY),
        )

    async def start(self) -> None:
        await self.bus.start()
        await self.pipeline.start()
        await self.pipeline.wait_ready()

    async def tick(self, tick: Tick) -> None:
        event = new_event(
            EventType.MARKET_TICK, tick, source="test", key=str(tick.instrument_token)
        )
        await self.bus.publish(topics.MARKET_TICKS, event)
        assert await self.pipeline.drain(10.0), "pipeline did not drain"

    async def stop(self) -> None:
        await self.pipeline.stop()
        await self.bus.aclose()

    async def crash(self) -> None:
        """SIGKILL, as near as one process gets: every task cancelled, the bus thrown away."""
        tasks = list(self.pipeline.supervisor.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.bus.aclose()


async def _positions(store: MemoryTradingStore) -> dict[str, int]:
    return {p.strategy: p.net_quantity for p in await store.list_positions(Broker.PAPER)}


def _within_size(positions: dict[str, int], step: str) -> None:
    for strategy, net in positions.items():
        size, allow_short = SIZES[strategy]
        assert abs(net) <= size, f"{strategy} holds {net} (size {size}) after {step}"
        assert allow_short or net >= 0, f"long-only {strategy} is short {net} after {step}"


STEP = st.one_of(
    st.tuples(st.just("trend"), st.sampled_from([-3, -1, 1, 3]), st.integers(3, 9)),
    st.tuples(st.sampled_from(["kill", "halt", "resume", "restart", "crash"])),
)


async def _day(steps: list[tuple[object, ...]]) -> None:
    store = MemoryTradingStore()
    market = Market()
    run = Run(store)
    await run.start()
    try:
        for step in steps:
            match step:
                case ("trend", direction, count):
                    for _ in range(int(count)):  # type: ignore[call-overload]
                        await run.tick(market.next_tick(Decimal(direction) * Decimal("1.5")))  # type: ignore[arg-type]
                case ("kill",):
                    await run.pipeline.control.kill(reason="test kill")
                case ("halt",):
                    await run.pipeline.control.halt("ema-long", reason="test halt")
                case ("resume",):
                    await run.pipeline.control.resume(reason="test resume")
                    await run.pipeline.control.resume("ema-long", reason="test resume")
                case ("restart",):
                    await run.stop()
                    run = Run(store)
                    await run.start()
                case ("crash",):
                    await run.crash()
                    run = Run(store)
                    await run.start()
            assert await run.pipeline.drain(10.0)
            _within_size(await _positions(store), str(step))
        await run.tick(market.next_tick(Decimal("0")))  # the last orders fill
        _within_size(await _positions(store), "the last fill")
    finally:
        await run.stop()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(st.lists(STEP, min_size=4, max_size=14))
def test_no_interleaving_of_crashes_halts_and_resumes_stacks_or_flips_a_position(
    steps: list[tuple[object, ...]],
) -> None:
    asyncio.run(_day(steps))


def test_a_strategy_restarted_while_long_does_not_buy_again_on_the_next_cross() -> None:
    """The trader's report: a crash while long, a new cross up, and the position doubled."""
    up, down = ("trend", 1, 9), ("trend", -1, 9)
    asyncio.run(_day([down, up, ("crash",), down, up, ("restart",), down, up]))
