"""A console attached to a cluster starts the tick stream at its end, not its beginning.

Seen in QA (``alphapanda --attach`` on ``alphapanda engine --bus kafka``): a new console
read every tick the broker kept from the start; for about a minute its header read
``SIM 16 Dec …`` while the market stood at 17 Dec, with nothing saying it was behind.
Here a real broker keeps a day-old stream of ticks; the console (Pilot, the real
``AttachedRuntime``) must show the fresh tick's time within a second and never the old day.
An engine's group on the same topics (``subscribe``) still reads from the earliest, and a
console's group resumes where it committed.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alphapanda_tui.app import make_app
from alphapanda_tui.attach import AttachedRuntime
from engine.bus.base import Record, Subscription
from engine.bus.kafka import KafkaBus
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import Tick
from engine.events.types import EventType
from tests.helpers import eventually
from tests.kafka.broker import fast_bus
from tests.kafka.cluster import cluster_env, random_prefix, settings_for
from widgets.status_header import StatusHeader

pytestmark = [pytest.mark.kafka]

OLD_DAY_NS = datetime_to_ns(datetime(2026, 12, 16, 10, 0, tzinfo=IST))  # a Wednesday
FRESH_NS = datetime_to_ns(datetime(2026, 12, 17, 11, 30, 5, tzinfo=IST))  # the next day
OLD_TICKS = 3_000


def _tick(exchange_ts: int, n: int = 0) -> Tick:
    return Tick(
        instrument_token=408065,
        symbol="NSE:INFY",
        last_price=Decimal("1580.25") + Decimal(n % 50) / 20,
        exchange_ts=exchange_ts,
    )


def _tick_ts(record: Record) -> int:
    assert record.envelope is not None and isinstance(record.envelope.data, Tick)
    return record.envelope.data.exchange_ts


async def _publish_ticks(bus: KafkaBus, stamps: list[int]) -> None:
    for n, ts in enumerate(stamps):
        event = new_event(EventType.MARKET_TICK, _tick(ts, n), source="feed")
        await bus.publish(topics.MARKET_TICKS, event)
    await bus.flush()


async def test_a_new_console_shows_the_fresh_tick_and_never_the_old_day(
    fresh_kafka: str, tmp_path: Path
) -> None:
    engine = fast_bus(fresh_kafka, client_id=random_prefix())
    await engine.start()
    try:
        await engine.ensure_topics([topics.MARKET_TICKS, topics.SYSTEM_HEALTH])
        await _publish_ticks(engine, [OLD_DAY_NS + n * NS_PER_S for n in range(OLD_TICKS)])

        env = cluster_env(
            tmp_path, fresh_kafka, f"sqlite+aiosqlite:///{tmp_path}/db.sqlite", None, ""
        )
        env.pop("ALPHAPANDA_REDIS__KEY_PREFIX")
        runtime = AttachedRuntime(settings_for(env), operator="trader@desk")
        seen: list[int] = []
        model = runtime.read_model
        apply_tick = model.apply_tick

        def recording(tick: Tick) -> None:
            seen.append(tick.exchange_ts)
            apply_tick(tick)

        model.apply_tick = recording  # type: ignore[method-assign]  # a spy, same behaviour
        app = make_app(runtime, operator="trader@desk")  # type: ignore[arg-type]  # as the CLI
        async with app.run_test(size=(120, 40)) as pilot:
            await eventually(lambda: runtime.reader is not None, timeout=30, message="no reader")
            await runtime.wait_ready(30)
            await eventually(
                lambda: runtime.reader is not None and runtime.reader.subscription is not None,
                timeout=30,
                message="not subscribed",
            )
            await asyncio.sleep(1.0)  # time enough to read old ticks, were it to
            assert seen == []

            await _publish_ticks(engine, [FRESH_NS])
            published = asyncio.get_running_loop().time()
            await eventually(lambda: FRESH_NS in seen, timeout=5, interval=0.02, message="no tick")
            assert asyncio.get_running_loop().time() - published < 1.0
            app.refresh_from_model(True)
            await pilot.pause()
            header = app.dashboard.query_one("#header", StatusHeader).line
            assert "17 Dec 2026 11:30:05" in header, header
            assert "16 Dec" not in header and "catching up" not in header, header
            assert seen == [FRESH_NS]  # not one tick of the old day
            assert runtime.reader is not None and runtime.reader.lag() == 0
    finally:
        await engine.aclose()


async def test_engine_groups_read_from_the_earliest_and_a_console_resumes_where_it_left(
    kafka_bootstrap: str,
) -> None:
    topic = f"market.ticks.{uuid.uuid4().hex[:8]}"
    bus = fast_bus(kafka_bootstrap, client_id=random_prefix())
    async with bus:
        await bus.ensure_topics([topic], partitions=1)

        async def publish(stamps: range) -> None:
            for ts in stamps:
                await bus.publish(topic, new_event(EventType.MARKET_TICK, _tick(ts), source="t"))
            await bus.flush()

        async def read_all(sub: Subscription, expected: int) -> list[int]:
            got: list[int] = []

            async def more() -> bool:
                records = await sub.fetch(256, 0.2)
                got.extend(_tick_ts(r) for r in records)
                if records:
                    await sub.commit(records)
                return len(got) >= expected

            await eventually(more, timeout=20, interval=0.01, message=f"read {got}")
            return got

        await publish(range(1, 6))
        engine = await bus.subscribe([topic], "engine-group")
        console = await bus.subscribe_from_end([topic], "console-group", [topic])
        assert await read_all(engine, 5) == [1, 2, 3, 4, 5]  # earliest, as before
        await publish(range(6, 8))
        assert await read_all(console, 2) == [6, 7]  # from the end: none of the first five
        await console.aclose()  # commits what it read
        await engine.aclose()

        await publish(range(8, 10))
        again = await bus.subscribe_from_end([topic], "console-group", [topic])
        assert await read_all(again, 2) == [8, 9]  # its committed offset, not the end
        await again.aclose()
