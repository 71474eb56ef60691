"""Throughput of a 3-stage StreamProcessor chain on the MemoryBus; prints one JSON object.

Each source event is a tick published to ``bench.s0``; stage N consumes ``bench.sN`` and
re-emits the payload to ``bench.s{N+1}``; the run ends when the last topic's consumer
group has committed every event. Run: ``python benchmarks/bus_memory.py [--events N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import resource
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope, new_event
from engine.events.payloads import Tick
from engine.events.types import EventType
from engine.processing import Emitter, ProcessorConfig, StreamProcessor

STAGES = 3
logging.getLogger("alphapanda").setLevel(logging.ERROR)  # back-pressure warnings are expected


class Relay(StreamProcessor):
    """Re-emits every event to the next topic, as a strategy or risk stage would."""

    def __init__(self, bus: MemoryBus, stage: int, config: ProcessorConfig) -> None:
        super().__init__(
            name=f"stage{stage}", bus=bus, input_topics=[f"bench.s{stage}"], config=config
        )
        self.output = f"bench.s{stage + 1}"

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        out.emit(self.output, envelope.type, envelope.data, key=envelope.key)


class Sink(StreamProcessor):
    """Counts what reaches the end of the chain."""

    def __init__(self, bus: MemoryBus, config: ProcessorConfig) -> None:
        super().__init__(name="sink", bus=bus, input_topics=[f"bench.s{STAGES}"], config=config)
        self.count = 0
        self.done = asyncio.Event()
        self.target = 0

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()


async def one_run(events: int, partitions: int, batch: int, capacity: int) -> float:
    bus = MemoryBus(partitions=partitions, capacity=capacity)
    config = ProcessorConfig(batch_size=batch, poll_timeout=0.05)
    stages = [Relay(bus, i, config) for i in range(STAGES)]
    sink = Sink(bus, config)
    sink.target = events
    procs: list[StreamProcessor] = [*stages, sink]
    tasks = [asyncio.create_task(p.run(), name=p.name) for p in procs]
    await asyncio.sleep(0.01)
    ticks = [
        new_event(
            EventType.MARKET_TICK,
            Tick(
                instrument_token=256265 + (i % 50),
                symbol="NSE:NIFTY",
                last_price=Decimal("22000.05"),
                exchange_ts=i,
            ),
            source="bench",
            key=str(256265 + (i % 50)),
        )
        for i in range(events)
    ]
    start = time.perf_counter()
    for tick in ticks:
        await bus.publish("bench.s0", tick)
    await sink.done.wait()
    elapsed = time.perf_counter() - start
    for p in procs:
        p.stop()
    await asyncio.gather(*tasks)
    await bus.aclose()
    return events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--capacity", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="cProfile one run to stderr")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(one_run(args.events, args.partitions, args.batch, args.capacity))
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        return
    runs = [
        asyncio.run(one_run(args.events, args.partitions, args.batch, args.capacity))
        for _ in range(args.runs)
    ]
    print(
        json.dumps(
            {
                "benchmark": "memory_bus_3_stage_chain",
                "events": args.events,
                "stages": STAGES,
                "partitions": args.partitions,
                "batch_size": args.batch,
                "capacity": args.capacity,
                "events_per_s_median": round(statistics.median(runs)),
                "events_per_s_runs": [round(r) for r in runs],
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
