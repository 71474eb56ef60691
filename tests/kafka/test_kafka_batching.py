"""The Kafka bus batches sends and commits without bending the contract: outputs are
acknowledged before the offsets of their inputs are committed, a rebalance and a close
commit what is done, a lost output stops commits, and order per key holds across batches."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner

from engine.bus.base import Record
from engine.bus.kafka import KafkaBus, KafkaSubscription, OutputLostError
from engine.bus.kafka.producer import CachedPartitioner
from engine.events import EventType, new_event
from engine.events.payloads import Tick
from tests.helpers import eventually
from tests.kafka.broker import fast_bus

pytestmark = pytest.mark.kafka


def _unique(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}"


def _tick(token: int, seq: int):  # type: ignore[no-untyped-def]
    tick = Tick(
        instrument_token=token,
        symbol=f"NSE:T{token}",
        last_price=Decimal(100 + seq),
        exchange_ts=seq,
    )
    return new_event(EventType.MARKET_TICK, tick, source="t", key=str(token))


def _slow_acknowledgements(bus: KafkaBus, delay: float) -> None:
    """Acknowledgements reach the bus ``delay`` seconds late."""
    producer = bus.producer._client
    assert producer is not None
    real_send_batch = producer.send_batch
    loop = asyncio.get_running_loop()

    async def slow_send_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        acked = await real_send_batch(*args, **kwargs)
        late: asyncio.Future[object] = loop.create_future()

        def forward(done: asyncio.Future[object]) -> None:
            error = done.exception()
            if error is not None:
                loop.call_later(delay, late.set_exception, error)
            else:
                loop.call_later(delay, late.set_result, done.result())

        acked.add_done_callback(forward)
        return late

    producer.send_batch = slow_send_batch  # type: ignore[method-assign]


async def _drain(sub: KafkaSubscription, count: int, rounds: int = 60) -> list[Record]:
    got: list[Record] = []
    for _ in range(rounds):
        got.extend(await sub.fetch(1000, 0.5))
        if len(got) >= count:
            break
    return got


async def _delivered(
    bus: KafkaBus, topic: str, group: str, count: int
) -> tuple[KafkaSubscription, list[Record]]:
    """The set-up most tests share: ``count`` ticks acknowledged, then fetched by a member."""
    for n in range(count):
        await bus.publish(topic, _tick(n, n))
    await bus.flush()
    sub = await bus.subscribe([topic], group)
    records = await _drain(sub, count)
    assert len(records) == count
    return sub, records


def test_partitions_match_aiokafkas_default_partitioner() -> None:
    """Keys must land where any other Kafka client would put them."""
    ours, theirs = CachedPartitioner(), DefaultPartitioner()
    for partitions in ([0, 1, 2, 3], list(range(7)), [0]):
        for n in range(2000):
            key = f"paper:strategy-{n % 13}:{n}".encode()
            expected = theirs(key, partitions, partitions)
            assert ours.pick(key, partitions) == expected
            assert ours.pick(key, partitions) == expected  # cached


async def test_order_per_key_holds_across_many_batches(kafka_bootstrap: str) -> None:
    topic = _unique("ticks")
    async with fast_bus(kafka_bootstrap, max_batch_size=1024) as bus:  # many small batches
        await bus.ensure_topics([topic])
        sent = 3000
        for n in range(sent):  # the three ways in, interleaved
            env = _tick(n % 25, n)
            if n % 3 == 0:
                await bus.publish(topic, env)
            elif n % 3 == 1:
                if not bus.publish_nowait(topic, env):
                    await bus.publish(topic, env)
            else:
                await bus.publish_raw(topic, bus.codec.encode(env), env.key)
        first, second = asyncio.create_task(bus.flush()), asyncio.create_task(bus.flush())
        await asyncio.gather(first, second)  # two flushers: both waited for every send
        assert bus.producer.unacked_count == 0
        sub = await bus.subscribe([topic], _unique("g"))
        got = await _drain(sub, sent)
        assert len(got) == sent
        for token in range(25):
            seqs = [r.envelope.data.exchange_ts for r in got if r.key == str(token)]
            assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), f"order of key {token}"


async def test_outputs_are_acknowledged_before_their_inputs_are_committed(
    kafka_bootstrap: str,
) -> None:
    source, sink, group = _unique("in"), _unique("out"), _unique("g")
    async with fast_bus(kafka_bootstrap, commit_interval_ms=20) as bus:
        await bus.ensure_topics([source, sink])
        for n in range(400):
            await bus.publish(source, _tick(n % 8, n))
        await bus.flush()
        sub = await bus.subscribe([source], group)
        _slow_acknowledgements(bus, 0.2)  # a commit that did not wait would overtake them
        consumer_commit = sub._consumer.commit
        checks: list[bool] = []
        sent_before: dict[tuple[str, int, int], int] = {}

        async def checked_commit(offsets):  # type: ignore[no-untyped-def]
            for tp, meta in offsets.items():
                outputs = sent_before[tp.topic, tp.partition, meta.offset]
                pending = bus.producer._batches
                checks.append(all(b.acked.done() for b in pending if b.first <= outputs))
            return await consumer_commit(offsets)

        sub._consumer.commit = checked_commit  # type: ignore[method-assign]
        handled = 0
        while handled < 400:
            records = await sub.fetch(50, 0.5)
            for record in records:  # one output per input, like a stage
                await bus.publish(sink, _tick(record.envelope.data.instrument_token, handled))
                handled += 1
            if records:
                sent = bus.producer.sent
                for record in records:
                    sent_before[record.topic, record.partition, record.offset + 1] = sent
                await sub.commit(records)
        await eventually(lambda: sub.lag() == 0 and not sub._dirty.is_set(), timeout=10)
        await sub.aclose()
        assert checks and all(checks)


async def test_commits_wait_for_the_interval_and_close_commits_what_is_done(
    kafka_bootstrap: str,
) -> None:
    topic, group = _unique("orders"), _unique("g")
    async with fast_bus(kafka_bootstrap, commit_interval_ms=60_000) as bus:
        await bus.ensure_topics([topic])
        first, batch = await _delivered(bus, topic, group, 20)
        done = batch[:12]
        await first.commit(done)
        await asyncio.sleep(0.3)
        assert first._committed == {}, "nothing is committed before the interval"
        assert first.lag() == 8, "lag counts what is not finished"
        await first.aclose()  # a graceful close commits what is done
        second = await bus.subscribe([topic], group)
        again = await _drain(second, 8, rounds=10)
        assert {r.envelope.id for r in again} == {r.envelope.id for r in batch} - {
            r.envelope.id for r in done
        }


async def test_a_rebalance_commits_finished_work_before_giving_partitions_up(
    kafka_bootstrap: str,
) -> None:
    topic, group = _unique("signals"), _unique("g")
    async with fast_bus(kafka_bootstrap, commit_interval_ms=60_000) as bus:
        await bus.ensure_topics([topic])
        first, everything = await _delivered(bus, topic, group, 40)
        await first.commit(everything)  # finished, not yet committed (long interval)
        polling = asyncio.create_task(_drain(first, 10**6, rounds=30))
        second = await bus.subscribe([topic], group)  # returns once partitions are split
        redelivered = await _drain(second, 1, rounds=4)
        assert redelivered == [], "the first member committed before giving partitions up"
        polling.cancel()
        await first.aclose()
        await second.aclose()


async def test_a_lost_output_stops_commits_and_the_input_is_redelivered(
    kafka_bootstrap: str,
) -> None:
    source, sink, group = _unique("in"), _unique("out"), _unique("g")
    async with fast_bus(kafka_bootstrap, commit_interval_ms=20) as bus:
        await bus.ensure_topics([source, sink])
        sub, records = await _delivered(bus, source, group, 5)

        producer = bus.producer._client
        assert producer is not None
        real_send_batch = producer.send_batch

        async def failing_send_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise KafkaTimeoutError("broker gone")

        producer.send_batch = failing_send_batch  # type: ignore[method-assign]
        await bus.publish(sink, _tick(99, 99))  # this output never reaches the cluster
        await sub.commit(records)
        await eventually(lambda: sub._failure is not None, timeout=5, message="loss noticed")
        producer.send_batch = real_send_batch  # type: ignore[method-assign]
        assert sub._committed == {}, "inputs of a lost output are never committed"
        with pytest.raises(OutputLostError):
            await sub.fetch(10, 0.1)  # the processor crashes and is restarted
        with pytest.raises(OutputLostError):
            await bus.flush()
        await sub.aclose()
        again = await bus.subscribe([source], group)  # the restarted processor
        assert len(await _drain(again, 5)) == 5
        await again.aclose()
        await bus.publish(sink, _tick(98, 98))
        await bus.flush()  # later sends are fine again


async def test_without_an_interval_commit_returns_after_committing(kafka_bootstrap: str) -> None:
    topic, group = _unique("control"), _unique("g")
    async with fast_bus(kafka_bootstrap, commit_interval_ms=0) as bus:
        await bus.ensure_topics([topic])
        sub, records = await _delivered(bus, topic, group, 6)
        await sub.commit(records)
        expected = {}
        for record in records:
            expected[record.topic, record.partition] = record.offset + 1
        assert {(tp.topic, tp.partition): o for tp, o in sub._committed.items()} == expected
        await sub.aclose()
