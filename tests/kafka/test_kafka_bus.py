"""The Kafka backend honours the same contract as the memory bus, against a real broker."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest

from engine.bus.kafka import BusUnavailableError, KafkaBus
from engine.events import EventType, new_event, topics
from engine.events.payloads import DeadLetter, Tick
from engine.processing import Emitter, ProcessorConfig, RetryPolicy, StreamProcessor
from engine.processing.codec_helpers import decode_dead_letter_original
from tests.helpers import eventually

pytestmark = pytest.mark.kafka


def _tick(token: int, price: str = "100.05") -> Tick:
    return Tick(
        instrument_token=token, symbol=f"NSE:T{token}", last_price=Decimal(price), exchange_ts=1
    )


def _unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}"


class Collector(StreamProcessor):
    """Records what it handles; fails on demand to exercise retries and the DLQ."""

    def __init__(self, bus: KafkaBus, topic: str, group: str, fail_on: set[int] | None = None):
        super().__init__(
            name=group,
            bus=bus,
            input_topics=[topic],
            group=group,
            config=ProcessorConfig(
                retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
            ),
        )
        self.seen: list[int] = []
        self.fail_on = fail_on or set()

    async def handle(self, envelope, out: Emitter) -> None:
        token = envelope.data.instrument_token
        if token in self.fail_on:
            raise RuntimeError(f"cannot handle {token}")
        self.seen.append(token)


async def test_publish_and_consume_in_key_order(kafka_bootstrap: str) -> None:
    topic = _unique("market.ticks")
    async with KafkaBus(
        kafka_bootstrap, idempotent=False, session_timeout_ms=2000, heartbeat_interval_ms=300
    ) as bus:
        await bus.ensure_topics([topic])
        for i in range(50):
            env = new_event(
                EventType.MARKET_TICK, _tick(i % 5, f"{100 + i}.00"), source="t", key=str(i % 5)
            )
            await bus.publish(topic, env)
        await bus.flush()
        sub = await bus.subscribe([topic], _unique("g"))
        got = []
        for _ in range(40):
            got.extend(await sub.fetch(100, 0.5))
            if len(got) >= 50:
                break
        assert len(got) == 50
        for key in map(str, range(5)):
            prices = [r.envelope.data.last_price for r in got if r.key == key]
            assert prices == sorted(prices), "order per key must hold"
        await sub.commit(got)
        assert sub.lag() == 0


async def test_uncommitted_records_are_redelivered_to_the_next_member(kafka_bootstrap) -> None:
    topic, group = _unique("orders"), _unique("g")
    async with KafkaBus(
        kafka_bootstrap, idempotent=False, session_timeout_ms=2000, heartbeat_interval_ms=300
    ) as bus:
        await bus.ensure_topics([topic])
        for i in range(10):
            await bus.publish(
                topic, new_event(EventType.MARKET_TICK, _tick(i), source="t", key=str(i))
            )
        await bus.flush()
        first = await bus.subscribe([topic], group)
        batch = []
        while len(batch) < 10:
            batch.extend(await first.fetch(100, 0.5))
        await first.commit(batch[:4])  # crash after handling only four
        handled_first = {r.envelope.id for r in batch[:4]}
        await first.aclose()
        second = await bus.subscribe([topic], group)
        again = []
        for _ in range(40):
            again.extend(await second.fetch(100, 0.5))
            if len(again) >= 6:
                break
        assert len(again) == 6
        assert not handled_first & {r.envelope.id for r in again}


async def test_poison_message_goes_to_dlq_and_the_pipeline_goes_on(kafka_bootstrap) -> None:
    topic, group = _unique("ticks"), _unique("collector")
    async with KafkaBus(
        kafka_bootstrap, idempotent=False, session_timeout_ms=2000, heartbeat_interval_ms=300
    ) as bus:
        await bus.ensure_topics([topic, topics.dlq(topic)])
        proc = Collector(bus, topic, group, fail_on={2})
        task = asyncio.create_task(proc.run())
        await bus.publish_raw(topic, b"\x93not an envelope", key="x")
        for token in (1, 2, 3):
            await bus.publish(
                topic, new_event(EventType.MARKET_TICK, _tick(token), source="t", key=str(token))
            )
        await bus.flush()
        await eventually(lambda: proc.seen == [1, 3], timeout=20, message="good ticks handled")
        await eventually(lambda: proc.stats.dead_lettered == 2, timeout=10)
        dlq = await bus.subscribe([topics.dlq(topic)], _unique("dlq-reader"))
        letters = []
        for _ in range(40):
            letters.extend(await dlq.fetch(10, 0.5))
            if len(letters) >= 2:
                break
        reasons = [r.envelope.data for r in letters]
        assert all(isinstance(d, DeadLetter) for d in reasons)
        errors = " | ".join(d.error for d in reasons)
        assert "invalid envelope" in errors and "cannot handle 2" in errors
        failed = next(d for d in reasons if "cannot handle" in d.error)
        assert failed.attempts == 2
        assert decode_dead_letter_original(failed).data.instrument_token == 2
        proc.stop()
        await asyncio.wait_for(task, 10)


async def test_unreachable_cluster_is_a_clear_error() -> None:
    from tests.kafka.broker import free_port

    bus = KafkaBus(f"127.0.0.1:{free_port()}", request_timeout_ms=1000)
    with pytest.raises(BusUnavailableError, match="cannot reach the Kafka cluster"):
        await bus.start()


async def test_stop_drains_the_input_that_is_on_the_cluster(kafka_bootstrap: str) -> None:
    """A graceful stop on Kafka handles and commits what was published before it, not
    only the batch in hand: nothing is left for the next start to find."""
    topic, group = _unique("fills"), _unique("portfolio")
    async with KafkaBus(
        kafka_bootstrap, idempotent=False, session_timeout_ms=2000, heartbeat_interval_ms=300
    ) as bus:
        await bus.ensure_topics([topic, topics.dlq(topic)])
        gate, in_hand = asyncio.Event(), asyncio.Event()

        class SlowFirst(Collector):
            async def handle(self, envelope, out: Emitter) -> None:
                if envelope.data.instrument_token == 0:
                    in_hand.set()
                    await gate.wait()
                await super().handle(envelope, out)

        proc = SlowFirst(bus, topic, group)
        proc.config = ProcessorConfig(batch_size=4, poll_timeout=0.05)
        task = asyncio.create_task(proc.run())
        for token in range(40):
            await bus.publish(
                topic, new_event(EventType.MARKET_TICK, _tick(token), source="t", key="one")
            )
        await bus.flush()
        await asyncio.wait_for(in_hand.wait(), 20)

        proc.stop()  # the first batch of 4 in hand, 36 more on the cluster
        gate.set()
        stopping = asyncio.get_running_loop().time()
        await asyncio.wait_for(task, 15)
        assert asyncio.get_running_loop().time() - stopping < 3.0  # drained, not timed out

        assert proc.seen == list(range(40))
        again = await bus.subscribe([topic], group)  # the group's committed offsets
        assert await again.fetch(100, 1.0) == []
        await again.aclose()
