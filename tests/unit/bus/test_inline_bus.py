"""InlineBus: the lockstep backtest's bus hands a group its records in the MemoryBus's order.

The lockstep driver's results equal the task-per-stage lockstep's only if every fetch
returns the same records in the same order as on the memory bus: the same partitions
(by key), the same turn over a group's partitions (the fairness cursor), the same
``max_records`` cut. Checked here against a ``MemoryBus`` fed the same publishes.
"""

from __future__ import annotations

import random

import pytest

from engine.bus.base import Record
from engine.bus.inline import InlineBus, InlineSubscription
from engine.bus.memory import MemoryBus
from engine.events.envelope import EventEnvelope, new_event
from engine.events.types import EventType
from tests.unit.events.samples import tick

TOPICS = ("market.ticks", "paper.orders.events", "paper.signals.raw")
KEYS = ("", "738561", "408065", "paper:ema-cross:738561", "paper:rsi:408065")


def event(n: int, key: str) -> EventEnvelope:
    return new_event(EventType.MARKET_TICK, tick(ts=n), source="test", key=key)


def ids(records: list[Record]) -> list[tuple[str, int, str]]:
    return [(r.topic, r.partition, r.envelope.id) for r in records if r.envelope is not None]


async def test_fetches_return_what_the_memory_bus_returns_in_its_order() -> None:
    rng = random.Random(5)
    memory, inline = MemoryBus(partitions=4), InlineBus(partitions=4)
    subs = [
        (await memory.subscribe(TOPICS, "g"), await inline.subscribe(TOPICS, "g")),
        (await memory.subscribe(TOPICS[::-1], "h"), await inline.subscribe(TOPICS[::-1], "h")),
    ]
    for n in range(3_000):
        if rng.random() < 0.6:
            topic, key = rng.choice(TOPICS), rng.choice(KEYS)
            envelope = event(n, key)
            assert memory.publish_nowait(topic, envelope, key)
            assert inline.publish_nowait(topic, envelope, key)
            continue
        mem_sub, inline_sub = rng.choice(subs)
        size = rng.choice((1, 3, 256))
        got, want = await inline_sub.fetch(size, 0), await mem_sub.fetch(size, 0)
        assert ids(got) == ids(want)
        handled = got[: rng.randint(0, len(got))]
        await inline_sub.commit(handled)
        await mem_sub.commit(want[: len(handled)])
        if len(handled) < len(got):
            await inline_sub.rewind()
            await mem_sub.rewind()
        assert inline_sub.lag() == mem_sub.lag()
        assert inline.has_lag() == memory.has_lag()


async def test_a_publish_wakes_a_waiting_member_through_the_driver_when_one_is_set() -> None:
    bus = InlineBus()
    sub = await bus.subscribe(["t"], "g")
    assert await sub.fetch(10, 0) == []
    sub.waiting = True
    woken: list[InlineSubscription] = []

    def take_wake_up(member: InlineSubscription) -> bool:
        woken.append(member)
        return True

    bus.waker = take_wake_up
    bus.publish_nowait("t", event(1, "k"), "k")
    assert woken == [sub] and not sub.waiting
    bus.publish_nowait("t", event(2, "k"), "k")  # no longer waiting: not woken again
    assert woken == [sub]
    assert [r.offset for r in sub.take(10)] == [0, 1]


async def test_a_topic_nobody_reads_keeps_its_newest_messages_for_the_first_group() -> None:
    bus = InlineBus(partitions=1, capacity=2)
    for n in range(3):
        bus.publish_nowait("t", event(n, ""))
    sub = await bus.subscribe(["t"], "g")
    assert [r.offset for r in await sub.fetch(10, 0)] == [1, 2]


async def test_a_group_has_one_member_and_keeps_its_records_when_it_leaves() -> None:
    bus = InlineBus()
    sub = await bus.subscribe(["t"], "g")
    with pytest.raises(RuntimeError):
        await bus.subscribe(["t"], "g")
    bus.publish_nowait("t", event(1, "k"), "k")
    assert len(await sub.fetch(10, 0)) == 1  # taken, never committed
    await sub.aclose()
    assert not bus.has_lag()  # a group without a member holds nothing back
    again = await bus.subscribe(["t"], "g")
    assert again.lag() == 1 and bus.has_lag()
