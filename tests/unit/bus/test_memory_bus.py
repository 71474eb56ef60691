"""MemoryBus: Kafka-like partitions, consumer groups, offsets, retention and back-pressure."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.bus.base import Record
from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope, new_event
from engine.events.types import EventType
from tests.helpers import eventually
from tests.unit.events.samples import tick


def event(n: int, key: str = "") -> EventEnvelope:
    return new_event(EventType.MARKET_TICK, tick(ts=n), source="test", key=key)


def seqs(records: list[Record]) -> list[int]:
    return [r.envelope.data.exchange_ts for r in records if r.envelope]  # type: ignore[union-attr]


async def drain(sub, timeout: float = 0.02) -> list[Record]:  # type: ignore[no-untyped-def]
    out: list[Record] = []
    while batch := await sub.fetch(1000, timeout):
        out.extend(batch)
    return out


async def test_order_per_key_holds_across_partitions() -> None:
    bus = MemoryBus(partitions=4)
    keys = [f"token-{k}" for k in range(12)]
    for n in range(240):
        await bus.publish("ticks", event(n, keys[n % 12]))
    sub = await bus.subscribe(["ticks"], "g")

    records = await drain(sub)

    assert len({r.partition for r in records}) > 1
    for key in keys:
        mine = [r for r in records if r.key == key]
        assert seqs(mine) == sorted(seqs(mine))
        assert len(mine) == 20


async def test_two_members_split_partitions_and_see_every_message_once() -> None:
    bus = MemoryBus(partitions=4)
    first = await bus.subscribe(["ticks"], "g")
    second = await bus.subscribe(["ticks"], "g")
    for n in range(200):
        await bus.publish("ticks", event(n, f"k{n % 17}"))

    got_first, got_second = await drain(first), await drain(second)

    assert got_first and got_second
    assert {r.partition for r in got_first}.isdisjoint({r.partition for r in got_second})
    assert sorted(seqs(got_first) + seqs(got_second)) == list(range(200))


async def test_a_member_that_leaves_hands_its_uncommitted_records_to_the_other() -> None:
    bus = MemoryBus(partitions=2)
    leaving = await bus.subscribe(["ticks"], "g")
    staying = await bus.subscribe(["ticks"], "g")
    for n in range(40):
        await bus.publish("ticks", event(n, f"k{n % 5}"))
    taken = await drain(leaving)
    kept = await drain(staying)
    await staying.commit(kept)

    await leaving.aclose()
    redelivered = await drain(staying)

    assert taken
    assert sorted(seqs(redelivered)) == sorted(seqs(taken))


async def test_a_later_group_starts_at_the_earliest_retained_message() -> None:
    bus = MemoryBus(partitions=1)
    early = await bus.subscribe(["ticks"], "early")
    for n in range(10):
        await bus.publish("ticks", event(n))
    await early.commit((await early.fetch(4))[:4])  # the log may now drop offsets 0-3

    late = await bus.subscribe(["ticks"], "late")

    assert seqs(await drain(late)) == list(range(4, 10))
    assert seqs(await drain(early)) == list(range(4, 10))


async def test_topic_without_groups_keeps_only_the_newest_capacity() -> None:
    bus = MemoryBus(partitions=1, capacity=3)
    for n in range(10):
        await bus.publish("audit", event(n))  # never blocks: nobody to wait for

    assert bus.retained("audit") == 3
    late = await bus.subscribe(["audit"], "g")
    records = await drain(late)
    assert seqs(records) == [7, 8, 9]
    assert [r.offset for r in records] == [7, 8, 9]


async def test_producer_waits_while_consumer_is_capacity_behind_and_resumes_on_commit() -> None:
    bus = MemoryBus(partitions=1, capacity=5)
    sub = await bus.subscribe(["ticks"], "g")
    for n in range(5):
        await bus.publish("ticks", event(n))

    blocked = asyncio.create_task(bus.publish("ticks", event(5)))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(blocked), 0.05)
    records = await sub.fetch(2)
    assert not blocked.done()  # fetched is not done: only a commit frees room

    await sub.commit(records)
    await eventually(blocked.done, timeout=1)
    assert bus.retained("ticks") == 4


async def test_memory_stays_bounded_under_a_fast_producer() -> None:
    bus = MemoryBus(partitions=2, capacity=20)
    sub = await bus.subscribe(["ticks"], "g")
    seen: list[int] = []
    peak = 0

    async def consume() -> None:
        while len(seen) < 500:
            batch = await sub.fetch(7, 0.1)
            seen.extend(seqs(batch))
            await sub.commit(batch)

    consumer = asyncio.create_task(consume())
    for n in range(500):
        await bus.publish("ticks", event(n, f"k{n % 3}"))
        peak = max(peak, bus.retained("ticks"))
    await asyncio.wait_for(consumer, 5)

    assert sorted(seen) == list(range(500))
    assert peak <= 2 * 20
    assert bus.total_lag() == 0


async def test_commit_and_rewind_redeliver_only_the_uncommitted() -> None:
    bus = MemoryBus(partitions=1)
    sub = await bus.subscribe(["ticks"], "g")
    for n in range(6):
        await bus.publish("ticks", event(n))
    records = await sub.fetch(10)
    await sub.commit(records[:2])

    await sub.rewind()

    assert seqs(await sub.fetch(10)) == [2, 3, 4, 5]
    assert sub.lag() == 4
    await sub.commit(records[:1])  # an old commit never moves the offset back
    assert sub.lag() == 4


async def test_a_group_resumes_from_its_commit_after_all_members_left() -> None:
    bus = MemoryBus(partitions=1)
    sub = await bus.subscribe(["ticks"], "g")
    for n in range(5):
        await bus.publish("ticks", event(n))
    await sub.commit((await sub.fetch(10))[:3])
    await sub.aclose()
    await bus.publish("ticks", event(5))

    again = await bus.subscribe(["ticks"], "g")

    assert seqs(await drain(again)) == [3, 4, 5]


async def test_fetch_waits_for_the_timeout_and_wakes_at_once_on_publish() -> None:
    bus = MemoryBus(partitions=2)
    sub = await bus.subscribe(["ticks"], "g")
    started = time.monotonic()
    assert await sub.fetch(10, 0.05) == []
    assert 0.04 <= time.monotonic() - started < 1.0

    waiting = asyncio.create_task(sub.fetch(10, 30))
    await asyncio.sleep(0)
    started = time.monotonic()
    await bus.publish("ticks", event(1, "k"))
    records = await asyncio.wait_for(waiting, 1)
    assert seqs(records) == [1]
    assert time.monotonic() - started < 1.0


async def test_closing_a_subscription_ends_a_waiting_fetch_and_later_fetches() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe(["ticks"], "g")
    waiting = asyncio.create_task(sub.fetch(10, 30))
    await asyncio.sleep(0)

    await sub.aclose()

    assert await asyncio.wait_for(waiting, 1) == []
    await bus.publish("ticks", event(1))
    assert await sub.fetch(10, 30) == []


async def test_closing_the_bus_releases_blocked_producers_and_refuses_more_work() -> None:
    bus = MemoryBus(partitions=1, capacity=1)
    await bus.subscribe(["ticks"], "g")
    await bus.publish("ticks", event(0))
    blocked = asyncio.create_task(bus.publish("ticks", event(1)))
    await asyncio.sleep(0.01)

    await bus.aclose()

    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(blocked, 1)
    with pytest.raises(RuntimeError, match="closed"):
        await bus.publish("ticks", event(2))
    with pytest.raises(RuntimeError, match="closed"):
        await bus.subscribe(["ticks"], "other")


async def test_undecodable_bytes_arrive_as_a_record_with_the_reason() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe(["ticks"], "g")

    await bus.publish_raw("ticks", b"not an envelope", key="k")

    [record] = await sub.fetch(10, 0.5)
    assert record.envelope is None
    assert record.raw == b"not an envelope"
    assert "invalid envelope" in (record.error or "")


async def test_total_lag_counts_what_groups_have_not_committed() -> None:
    bus = MemoryBus(partitions=2)
    a = await bus.subscribe(["ticks"], "a")
    b = await bus.subscribe(["ticks"], "b")
    for n in range(8):
        await bus.publish("ticks", event(n, f"k{n}"))
    assert bus.total_lag() == 16

    await a.commit(await drain(a))
    await b.commit(await drain(b))

    assert bus.total_lag() == 0
    assert bus.retained("ticks") == 0


async def test_committing_a_prefix_of_a_multi_partition_batch_commits_just_that() -> None:
    bus = MemoryBus(partitions=4)
    sub = await bus.subscribe(["ticks", "orders"], "g")
    for n in range(40):
        await bus.publish("ticks" if n % 3 else "orders", event(n, f"k{n % 7}"))
    batch = await sub.fetch(30)
    assert len({(r.topic, r.partition) for r in batch}) > 2  # several runs in one batch

    for cut in (1, 7, 19, 30):  # each prefix commits exactly the highest offsets in it
        await sub.commit(batch[:cut])
        expected: dict[tuple[str, int], int] = {}
        for record in batch[:cut]:
            expected[(record.topic, record.partition)] = record.offset + 1
        for (topic, partition), offset in expected.items():
            assert bus.topic(topic).groups["g"].committed[partition] == offset
    assert sub.lag() == 40 - 30


async def test_commit_of_records_not_laid_out_as_fetched_takes_the_general_path() -> None:
    bus = MemoryBus(partitions=2)
    sub = await bus.subscribe(["ticks"], "g")
    for n in range(10):
        await bus.publish("ticks", event(n, f"k{n % 2}"))
    batch = await sub.fetch(10)
    committed = bus.topic("ticks").groups["g"].committed
    expected = [0, 0]
    for picked in ([batch[5], batch[1]], [batch[-1], batch[0]]):  # not prefixes of the batch
        await sub.commit(picked)
        for record in picked:
            expected[record.partition] = max(expected[record.partition], record.offset + 1)
        assert committed == expected
    await sub.commit(list(reversed(batch)))
    assert bus.total_lag() == 0 and not bus.has_lag()


async def test_the_log_is_trimmed_only_past_the_slowest_group() -> None:
    bus = MemoryBus(partitions=1)
    slow = await bus.subscribe(["ticks"], "slow")
    fast = await bus.subscribe(["ticks"], "fast")
    for n in range(10):
        await bus.publish("ticks", event(n))
    await fast.commit(await fast.fetch(10))
    assert bus.retained("ticks") == 10  # the slow group still needs everything

    await slow.commit((await slow.fetch(4))[:4])
    assert bus.retained("ticks") == 6
    await slow.commit(await slow.fetch(10))
    assert bus.retained("ticks") == 0 and not bus.has_lag()
