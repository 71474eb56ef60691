"""The paper pipeline over Kafka against raw aiokafka, on one local Tansu broker.

Raw: an aiokafka producer sends N encoded tick envelopes and a consumer group reads them
back (produce + consume + decode, nothing else; the bus's client settings; median of 3
runs). Pipeline: the same N ticks go through strategies, risk, execution and portfolio
(``engine.pipeline.Pipeline`` on ``KafkaBus`` with its default settings, in-memory
store). Flood: every tick is published at once; ticks/s is measured until the pipeline
is drained, i.e. every stage's group (and the order reader's) has *committed* the end of
each of its input topics: the order path and the commits are inside the time, not only
the ticks. Tick-to-order latency runs from a tick's publish to its order's SUBMITTED
event read back from the cluster; under the flood it is mostly queueing, so a paced
phase first (``--paced`` ticks at ``--rate`` per second, same pipeline, before the
flood) measures it as live trading sees it.
Workloads (``--workload``): ``engine`` (default) is the engine issue's benchmark over
Kafka: the bundled EMA 12/26 cross on RELIANCE, INFY and HDFCBANK over the seeded
simulated feed (seed 3, as ``benchmarks/pipeline.py``; an order on ~3.7 % of ticks),
with the default risk limits. ``stress`` is order-heavy: an EMA 2/4 cross on a coarse
random walk over four instruments, an order on ~45 % of ticks (each order is ~6 more
records: raw and validated signal, submitted, filled, position, P&L).
Goal: pipeline ≥ 1/3 of raw. Prints one JSON object (with ``--runs`` > 1: every run, a
fresh broker each, and the medians).
Run: ``python benchmarks/pipeline_kafka.py [--ticks N] [--paced N] [--rate R] [--runs K]``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from engine.backtest import BacktestStore
from engine.bus.base import EventBus
from engine.bus.kafka import KafkaBus
from engine.bus.memory import MemoryBus
from engine.clock import IST, datetime_to_ns
from engine.events import topics
from engine.events.codec import EventCodec
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import OrderUpdate, Tick
from engine.events.types import Broker, EventType, OrderStatus
from engine.instruments import load_default_registry
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing import ProcessorConfig
from engine.risk.limits import RiskLimits
from engine.strategies import build_strategies
from engine.strategies.config import StrategyConfig, load_strategies, parse_strategies
from tests.kafka.broker import tansu_broker

logging.getLogger("alphapanda").setLevel(logging.ERROR)
logging.getLogger("aiokafka").setLevel(logging.ERROR)
SESSION_NS = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))


ENGINE_STRATEGY = "ema-cross"  # as benchmarks/pipeline.py
ENGINE_SEED = 3


def engine_workload(count: int, registry) -> tuple[list[EventEnvelope], list[StrategyConfig]]:
    """The engine benchmark's ticks (the simulated feed, seed 3) and its strategy."""
    config = next(c for c in load_strategies() if c.name == ENGINE_STRATEGY)
    feed = SimulatedFeedConfig(
        seed=ENGINE_SEED, instruments=config.instruments, ticks_per_second=None, max_ticks=count
    )
    ticks = [
        new_event(
            EventType.MARKET_TICK,
            tick,
            source="bench",
            key=str(tick.instrument_token),
            ts_ns=tick.exchange_ts,
        )
        for tick in iter_ticks(registry, feed)
    ]
    return ticks, [config]


def stress_workload(count: int, registry) -> tuple[list[EventEnvelope], list[StrategyConfig]]:
    """Order-heavy: EMA 2/4 on a coarse walk crosses on ~45 % of ticks."""
    ticks = make_ticks(count, registry)
    return ticks, parse_strategies(
        {
            "strategies": [
                {
                    "name": "bench-ema",
                    "kind": "ema_cross",
                    "params": {"fast": 2, "slow": 4, "quantity": 1, "allow_short": True},
                    "instruments": sorted({t.data.symbol for t in ticks}),
                    "broker": "paper",
                }
            ]
        }
    )


WORKLOADS = {"engine": engine_workload, "stress": stress_workload}


def make_ticks(count: int, registry) -> list[EventEnvelope]:
    """A random walk per instrument: EMA 2/4 crosses often, so orders flow."""
    instruments = [i for i in registry if i.tick_size][:4]
    rng = random.Random(7)
    prices = {i.instrument_token: Decimal("1000") for i in instruments}
    ticks = []
    for n in range(count):
        inst = instruments[n % len(instruments)]
        token = inst.instrument_token
        prices[token] = max(Decimal("10"), prices[token] + Decimal(rng.choice((-3, -1, 1, 3))))
        price = prices[token]
        tick = Tick(
            instrument_token=token,
            symbol=f"{inst.exchange}:{inst.tradingsymbol}",
            last_price=price,
            exchange_ts=SESSION_NS + n * 1_000_000,
            bid=price - Decimal("0.05"),
            ask=price + Decimal("0.05"),
            bid_quantity=100_000,
            ask_quantity=100_000,
            volume=100_000,
        )
        ts = tick.exchange_ts
        env = new_event(EventType.MARKET_TICK, tick, source="bench", key=str(token), ts_ns=ts)
        ticks.append(env)
    return ticks


def _bus_default(name: str) -> int:
    """A ``KafkaBus`` default, so raw aiokafka runs with the same client settings."""
    return inspect.signature(KafkaBus.__init__).parameters[name].default


async def raw_run(bootstrap: str, ticks: list[EventEnvelope], repeats: int = 3) -> float:
    """aiokafka alone: produce every tick, consume them all back (and decode them);
    messages per second, the median of ``repeats`` runs on fresh topics and groups."""
    rates = [await _raw_once(bootstrap, ticks) for _ in range(repeats)]
    return statistics.median(rates)


async def _raw_once(bootstrap: str, ticks: list[EventEnvelope]) -> float:
    codec = EventCodec("msgpack")
    payloads = [(e.key.encode(), codec.encode(e)) for e in ticks]
    topic = f"raw.{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(bootstrap, idempotent=False)
    await bus.start()
    await bus.ensure_topics([topic])
    await bus.aclose()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=_bus_default("linger_ms"),
        max_batch_size=_bus_default("max_batch_size"),
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw.{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=_bus_default("fetch_max_wait_ms"),
    )
    await producer.start()
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=200)  # join the group before the clock starts
        started = time.perf_counter()
        futures = [await producer.send(topic, value=v, key=k) for k, v in payloads]
        await asyncio.gather(*futures)
        seen = 0
        while seen < len(payloads):
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for messages in batches.values():
                for msg in messages:
                    codec.decode(msg.value)  # the pipeline decodes too
                seen += len(messages)
            if batches:
                await consumer.commit()
        return len(payloads) / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


def bench_pipeline(
    bus: EventBus,
    store: BacktestStore,
    strategies: list[StrategyConfig],
    registry,
    risk: RiskLimits,
) -> Pipeline:
    """The paper pipeline both runs measure: only the bus differs."""
    return Pipeline(
        config=PipelineConfig(
            broker=Broker.PAPER,
            instance_id="bench",
            risk=risk,
            processing=ProcessorConfig(batch_size=1024),
            snapshot_interval_s=60.0,
        ),
        bus=bus,
        store=store,
        registry=registry,
        strategies=build_strategies(strategies, registry),
    )


async def pipeline_run(
    bootstrap: str,
    ticks: list[EventEnvelope],
    strategies: list[StrategyConfig],
    registry,
    paced: int = 0,
    rate: float = 500.0,
    risk: RiskLimits | None = None,
) -> dict:
    """``ticks[:paced]`` at ``rate``/s, drain; then flood the rest, drain."""
    flood = ticks[paced:]
    bus = KafkaBus(bootstrap, idempotent=False, session_timeout_ms=6000, heartbeat_interval_ms=500)
    await bus.start()
    store = BacktestStore()  # the in-memory store, counting orders and rejections
    pipeline = bench_pipeline(bus, store, strategies, registry, risk or RiskLimits())
    sent_at: dict[str, tuple[str, float]] = {}
    latencies: dict[str, list[float]] = {"flood": [], "paced": []}
    reader_group = f"bench.{uuid.uuid4()}"
    orders = await bus.subscribe([topics.orders_events(Broker.PAPER)], reader_group)
    await bus.ensure_topics(topics.all_topics((Broker.PAPER,)))
    await pipeline.start()
    await pipeline.wait_ready(30)
    stages = [pipeline.runner, pipeline.risk, pipeline.execution, pipeline.portfolio]

    read = [0]  # records the order reader has fetched

    async def drained() -> bool:
        """Quiet: at a moment T nothing handled is uncommitted (so every output is
        acknowledged); then every input has had a fetch response after T showing nothing
        left, and no stage handled anything meanwhile (nothing was in flight at T)."""
        subs = [s.subscription for s in stages] + [orders]
        if any(sub is None or sub.uncommitted() for sub in subs):
            return False
        counts = [_ticks_seen(s) for s in stages] + [read[0]]
        quiet_since = time.time()
        for _ in range(100):
            await asyncio.sleep(0.02)
            # No sub is None here (checked above); caught_up is the Kafka subscription's.
            if all([await sub.caught_up(quiet_since) for sub in subs]):  # type: ignore[union-attr]
                return counts == [_ticks_seen(s) for s in stages] + [read[0]]
        return False

    async def read_orders() -> None:
        while True:
            records = await orders.fetch(1000, 0.2)
            read[0] += len(records)
            now = time.perf_counter()
            for record in records:
                env = record.envelope
                data = env.data if env else None
                if isinstance(data, OrderUpdate) and data.status is OrderStatus.SUBMITTED:
                    sent = sent_at.get(env.correlation_id or "")
                    if sent is not None:
                        latencies[sent[0]].append(now - sent[1])
            if records:
                await orders.commit(records)

    reader = asyncio.create_task(read_orders())
    try:
        paced_result: dict[str, object] = {}
        if paced:  # first, on a fresh pipeline: the flood's aftermath would skew it
            period = 1.0 / rate
            began = time.perf_counter()
            for n, env in enumerate(ticks[:paced]):
                delay = began + n * period - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent_at[env.id] = ("paced", time.perf_counter())
                await bus.publish(topics.MARKET_TICKS, env)
            await bus.flush()
            await wait_until(drained)
            paced_result = _latency(latencies["paced"]) | {"ticks": paced, "rate_per_s": rate}
        base = [_ticks_seen(s) for s in stages]
        cpu = time.process_time()
        started = time.perf_counter()
        for env in flood:
            sent_at[env.id] = ("flood", time.perf_counter())
            await bus.publish(topics.MARKET_TICKS, env)
        await bus.flush()
        while any(_ticks_seen(s) - b < len(flood) for s, b in zip(stages, base, strict=True)):
            await asyncio.sleep(0.01)
        seen = time.perf_counter() - started
        await wait_until(drained)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        reader.cancel()
        await pipeline.stop()
        await orders.aclose()
        await bus.aclose()
    return {
        "ticks_per_s": round(len(flood) / elapsed),
        # What this benchmark reported before it waited for the drain: each stage has
        # handled as many records as there were ticks (the order path may still be behind).
        "ticks_seen_per_s": round(len(flood) / seen),
        "wall_s": round(elapsed, 2),
        "cpu_s": round(cpu, 2),
        **_latency(latencies["flood"]),
        "paced": paced_result,
        # Paced and flood together, as the backtest summary counts them.
        "signals": pipeline.runner.signals_emitted,
        "orders_written": store.orders_written,
        "fills": len(store.fills),
        "rejections": store.risk_rejections + store.rejected_orders(),
    }


async def memory_run(
    ticks: list[EventEnvelope],
    strategies: list[StrategyConfig],
    registry,
    risk: RiskLimits,
) -> dict:
    """The same pipeline and flood on the in-process memory bus: the engine's own ceiling
    for the workload, so the Kafka figure can be read as bus cost versus engine cost."""
    bus = MemoryBus(partitions=4, capacity=10_000)
    store = BacktestStore()
    pipeline = bench_pipeline(bus, store, strategies, registry, risk)
    await bus.start()
    await pipeline.start()
    await pipeline.wait_ready(30)
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        for env in ticks:
            await bus.publish(topics.MARKET_TICKS, env)
        if not await pipeline.drain(120):
            raise TimeoutError("the memory pipeline did not drain")
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await pipeline.stop()
        await bus.aclose()
    return {
        "ticks_per_s": round(len(ticks) / elapsed),
        "cpu_s": round(cpu, 2),
        "orders_written": store.orders_written,
        "fills": len(store.fills),
    }


async def wait_until(done: Callable[[], Awaitable[bool]], timeout: float = 120.0) -> None:
    """Poll ``done`` every 20 ms. (Not the cluster's listed end offsets: Tansu's are not
    record counts. A subscription is caught up once a fetch response after the question
    shows nothing left, and committed once its committer has sent every finished offset.)"""
    async with asyncio.timeout(timeout):
        while not await done():
            await asyncio.sleep(0.02)


def _latency(values: list[float]) -> dict[str, object]:
    values = sorted(values)
    return {
        "orders": len(values),
        "tick_to_order_p50_ms": round(_pct(values, 50) * 1000, 2),
        "tick_to_order_p99_ms": round(_pct(values, 99) * 1000, 2),
    }


def _ticks_seen(stage) -> int:
    return stage.stats.processed + stage.stats.duplicates + stage.stats.dead_lettered


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


# The flood replays hours of market in about a second and each fill reaches risk over the
# cluster ~0.1 s after its order: open orders pile up in wall time, which live trading (10
# orders/s at most) never sees. So no open-order cap; the stress workload also trips the
# exposure limits. Every other rule as configured by default.
FLOOD_RISK = {
    "engine": RiskLimits(max_open_orders=100_000),
    "stress": RiskLimits(
        max_open_orders=100_000,
        max_orders_per_second=1_000_000,
        max_position_value=None,
        max_gross_exposure=None,
    ),
}


async def main(
    count: int, paced: int = 2000, rate: float = 500.0, workload: str = "engine"
) -> dict:
    registry = load_default_registry()
    ticks, strategies = WORKLOADS[workload](count + paced, registry)
    risk = FLOOD_RISK[workload]
    with tempfile.TemporaryDirectory() as tmp, tansu_broker(Path(tmp) / "tansu.log") as bootstrap:
        raw = await raw_run(bootstrap, ticks[paced:])  # the flood's ticks
        pipe = await pipeline_run(bootstrap, ticks, strategies, registry, paced, rate, risk)
    memory = await memory_run(ticks[paced:], strategies, registry, risk)
    ratio = pipe["ticks_per_s"] / raw
    return {
        "benchmark": "pipeline_kafka",
        "workload": workload,
        "ticks": count,
        "raw_produce_consume_per_s": round(raw),
        "pipeline": pipe,
        "pipeline_vs_raw": round(ratio, 3),
        # The same flood through the same pipeline on the memory bus (no cluster).
        "memory_bus": memory,
        "kafka_vs_memory_bus": round(pipe["ticks_per_s"] / memory["ticks_per_s"], 3),
        "goal": ">= 0.333",
        "goal_met": ratio >= 1 / 3,
        "python": sys.version.split()[0],
        "note": "one Tansu broker on loopback, in-memory store",
    }


def medians(runs: list[dict]) -> dict:
    """The median of each headline figure over the runs."""

    def med(get) -> float:
        return round(statistics.median(get(r) for r in runs), 3)

    return {
        "raw_produce_consume_per_s": med(lambda r: r["raw_produce_consume_per_s"]),
        "pipeline_ticks_per_s": med(lambda r: r["pipeline"]["ticks_per_s"]),
        "pipeline_vs_raw": med(lambda r: r["pipeline_vs_raw"]),
        "memory_bus_ticks_per_s": med(lambda r: r["memory_bus"]["ticks_per_s"]),
        "kafka_vs_memory_bus": med(lambda r: r["kafka_vs_memory_bus"]),
        "flood_tick_to_order_p50_ms": med(lambda r: r["pipeline"]["tick_to_order_p50_ms"]),
        "flood_tick_to_order_p99_ms": med(lambda r: r["pipeline"]["tick_to_order_p99_ms"]),
        "paced_tick_to_order_p50_ms": med(
            lambda r: r["pipeline"]["paced"].get("tick_to_order_p50_ms", float("nan"))
        ),
        "paced_tick_to_order_p99_ms": med(
            lambda r: r["pipeline"]["paced"].get("tick_to_order_p99_ms", float("nan"))
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20_000, help="flood ticks")
    parser.add_argument(
        "--paced", type=int, default=2_000, help="paced ticks before the flood (0: none)"
    )
    parser.add_argument("--rate", type=float, default=500.0, help="paced ticks per second")
    parser.add_argument("--runs", type=int, default=1, help="runs, a fresh broker each")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="engine")
    args = parser.parse_args()
    results = [
        asyncio.run(main(args.ticks, args.paced, args.rate, args.workload))
        for _ in range(args.runs)
    ]
    if args.runs == 1:
        print(json.dumps(results[0]))
    else:
        print(json.dumps({"runs": results, "median": medians(results)}))
