"""The paper pipeline over Kafka against raw aiokafka, on one local Tansu broker.

Raw: an aiokafka producer sends N encoded tick envelopes and a consumer group reads them
back (produce + consume, nothing else). Pipeline: the same N ticks go through strategies,
risk, execution and portfolio (``engine.pipeline.Pipeline`` on ``KafkaBus``, in-memory
store); ticks/s is measured until every stage has handled every tick, and tick-to-order
latency from a tick's publish to its order's SUBMITTED event read back from the cluster.
Goal: pipeline ≥ 1/3 of raw. Prints one JSON object.
Run: ``python benchmarks/pipeline_kafka.py [--ticks N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from engine.bus.kafka import KafkaBus
from engine.clock import IST, datetime_to_ns
from engine.events import topics
from engine.events.codec import EventCodec
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import OrderUpdate, Tick
from engine.events.types import Broker, EventType, OrderStatus
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing import ProcessorConfig
from engine.risk.limits import RiskLimits
from engine.strategies import build_strategies
from engine.strategies.config import parse_strategies
from tests.kafka.broker import tansu_broker

logging.getLogger("alphapanda").setLevel(logging.ERROR)
logging.getLogger("aiokafka").setLevel(logging.ERROR)
SESSION_NS = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))


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


async def raw_run(bootstrap: str, ticks: list[EventEnvelope]) -> float:
    """aiokafka alone: produce every tick, consume them all back; messages per second."""
    codec = EventCodec("msgpack")
    payloads = [(e.key.encode(), codec.encode(e)) for e in ticks]
    topic = f"raw.{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(bootstrap, idempotent=False)
    await bus.start()
    await bus.ensure_topics([topic])
    await bus.aclose()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw.{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
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
                seen += sum(len(m) for m in batches.values())
            if batches:
                await consumer.commit()
        return len(payloads) / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


async def pipeline_run(bootstrap: str, ticks: list[EventEnvelope], registry) -> dict:
    strategies = parse_strategies(
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
    bus = KafkaBus(bootstrap, idempotent=False, session_timeout_ms=6000, heartbeat_interval_ms=500)
    await bus.start()
    pipeline = Pipeline(
        config=PipelineConfig(
            broker=Broker.PAPER,
            instance_id="bench",
            risk=RiskLimits(
                max_open_orders=100_000,
                max_orders_per_second=1_000_000,
                max_position_value=None,
                max_gross_exposure=None,
            ),
            processing=ProcessorConfig(batch_size=1024),
            snapshot_interval_s=60.0,
        ),
        bus=bus,
        store=MemoryTradingStore(),
        registry=registry,
        strategies=build_strategies(strategies, registry),
    )
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    orders = await bus.subscribe([topics.orders_events(Broker.PAPER)], f"bench.{uuid.uuid4()}")
    await bus.ensure_topics(topics.all_topics((Broker.PAPER,)))
    await pipeline.start()
    await pipeline.wait_ready(30)
    stages = [pipeline.runner, pipeline.risk, pipeline.execution, pipeline.portfolio]

    async def read_orders() -> None:
        while True:
            for record in await orders.fetch(1000, 0.2):
                env = record.envelope
                data = env.data if env else None
                if isinstance(data, OrderUpdate) and data.status is OrderStatus.SUBMITTED:
                    start = sent_at.get(env.correlation_id or "")
                    if start is not None:
                        latencies.append(time.perf_counter() - start)

    reader = asyncio.create_task(read_orders())
    started = time.perf_counter()
    for env in ticks:
        sent_at[env.id] = time.perf_counter()
        await bus.publish(topics.MARKET_TICKS, env)
    await bus.flush()
    while any(_ticks_seen(s) < len(ticks) for s in stages):
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.5)  # the last orders' events
    reader.cancel()
    await pipeline.stop()
    await orders.aclose()
    await bus.aclose()
    latencies.sort()
    return {
        "ticks_per_s": round(len(ticks) / elapsed),
        "orders": len(latencies),
        "tick_to_order_p50_ms": round(_pct(latencies, 50) * 1000, 2),
        "tick_to_order_p99_ms": round(_pct(latencies, 99) * 1000, 2),
    }


def _ticks_seen(stage) -> int:
    return stage.stats.processed + stage.stats.duplicates + stage.stats.dead_lettered


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


async def main(count: int) -> dict:
    registry = load_default_registry()
    ticks = make_ticks(count, registry)
    with tempfile.TemporaryDirectory() as tmp, tansu_broker(Path(tmp) / "tansu.log") as bootstrap:
        raw = await raw_run(bootstrap, ticks)
        pipe = await pipeline_run(bootstrap, ticks, registry)
    ratio = pipe["ticks_per_s"] / raw
    return {
        "benchmark": "pipeline_kafka",
        "ticks": count,
        "raw_produce_consume_per_s": round(raw),
        "pipeline": pipe,
        "pipeline_vs_raw": round(ratio, 3),
        "goal": ">= 0.333",
        "goal_met": ratio >= 1 / 3,
        "python": sys.version.split()[0],
        "note": statistics.__name__ and "one Tansu broker on loopback, in-memory store",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.ticks))))
