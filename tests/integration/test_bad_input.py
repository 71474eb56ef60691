"""Bad input reaches a dead-letter topic with its reason; the engine keeps trading the good.

A real runtime (SQLite, memory bus, the strategies and risk limits of
``tests.integration.support``) replays a tick file with junk rows between good ones, and
then takes garbage bytes and an impossible signal straight on its topics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui.runtime import EngineRuntime, build_runtime
from alphapanda_tui.settings import load_settings
from engine.bus.base import EventBus
from engine.events import topics
from engine.events.codec import EventCodec
from engine.events.payloads import DeadLetter
from engine.events.types import ComponentStatus, EventType, Side
from engine.ids import uuid7_str
from engine.market.feeds.replay import ReplayFeed
from tests.helpers import eventually
from tests.integration.support import (
    BROKER,
    INFY,
    SESSION_START_NS,
    Ledger,
    make_signal,
    settings_overrides,
    signal_event,
    tick,
    tick_event,
)

# An INFY price path whose EMA 2/4 crosses several times: the strategy must trade it.
GOOD_PRICES = [1580 + step for step in (0, 2, 4, 6, 8, 4, 0, -4, -8, -4, 2, 8, 14, 8, 0, -8)] * 3
BAD_ROWS = {
    "this is not a tick at all": "expected 3 columns",
    "2026-01-05T10:00:30,NSE:NOPE,100.00": "NOPE",
    "2026-01-05T10:00:31,NSE:INFY,-5.00": "last_price must be positive",
    "2026-01-05T10:00:32,NSE:INFY,1580.03": "not a multiple of tick size",
    "yesterday,NSE:INFY,1580.00": "unparseable ts",
    "2026-01-05T10:00:33,NSE:INFY,abc": "is not a number",
}


def _tick_file(path: Path) -> dict[int, str]:
    """Good rows with one bad row after every few; returns the bad rows' line numbers."""
    start = datetime(2026, 1, 5, 10, 0, 0)
    lines = ["ts,symbol,last_price"]
    bad_lines: dict[int, str] = {}
    bad = iter(BAD_ROWS.items())
    for index, price in enumerate(GOOD_PRICES):
        moment = (start + timedelta(seconds=index)).isoformat()
        lines.append(f"{moment},NSE:INFY,{price}.00")
        if index % 7 == 3:
            row, why = next(bad, (None, ""))
            if row is not None:
                lines.append(row)
                bad_lines[len(lines)] = why
    path.write_text("\n".join(lines) + "\n")
    return bad_lines


@pytest.fixture
async def runtime(isolated_home: Path) -> AsyncIterator[tuple[EngineRuntime, dict[int, str]]]:
    ticks = isolated_home / "ticks.csv"
    bad_lines = _tick_file(ticks)
    settings = load_settings(**settings_overrides(isolated_home))
    runtime = build_runtime(
        settings,
        feed_factory=lambda bus, registry: ReplayFeed(bus, registry, ticks, ticks_per_second=150),
    )
    await runtime.start()
    assert runtime.pipeline is not None
    await runtime.pipeline.wait_ready()
    yield runtime, bad_lines
    await runtime.stop()


async def _dead_letters(bus: EventBus, topic: str) -> list[DeadLetter]:
    """Every dead letter the topic's DLQ holds, read by a fresh group that then leaves."""
    sub = await bus.subscribe([topics.dlq(topic)], f"test-dlq-{uuid7_str()}")
    try:
        records = await sub.fetch(1000, 0.05)
    finally:
        await sub.aclose()
    return [
        r.envelope.data for r in records if r.envelope and isinstance(r.envelope.data, DeadLetter)
    ]


def _all_running(runtime: EngineRuntime) -> bool:
    """Every stream processor up, none paused by its circuit breaker, none restarted."""
    assert runtime.pipeline is not None
    pipeline = runtime.pipeline
    healthy = all(p.health().status is ComponentStatus.RUNNING for p in pipeline.processors)
    return healthy and not any(pipeline.supervisor.restarts.values())


async def test_junk_tick_rows_are_dead_lettered_and_good_rows_still_trade(
    runtime: tuple[EngineRuntime, dict[int, str]],
) -> None:
    engine, bad_lines = runtime
    pipeline = engine.pipeline
    assert pipeline is not None and pipeline.feed is not None
    feed: Any = pipeline.feed

    await eventually(lambda: feed.finished.is_set(), timeout=10, message="replay finished")
    assert await pipeline.drain(10)
    letters = await _dead_letters(pipeline.bus, topics.MARKET_TICKS)

    assert feed.published == len(GOOD_PRICES)
    assert len(letters) == len(bad_lines) == len(BAD_ROWS)
    for letter, (line, why) in zip(letters, sorted(bad_lines.items()), strict=True):
        assert letter.source_topic == topics.MARKET_TICKS
        assert letter.error.startswith(f"line {line}:"), letter.error
        assert why in letter.error
    ledger = await Ledger.load(pipeline.store)
    assert ledger.fills, "the good rows should have traded"
    assert ledger.problems() == []
    assert _all_running(engine)


async def test_garbage_on_the_tick_topic_is_dead_lettered_and_the_pipeline_continues(
    runtime: tuple[EngineRuntime, dict[int, str]],
) -> None:
    engine, _ = runtime
    pipeline = engine.pipeline
    assert pipeline is not None
    feed: Any = pipeline.feed
    await eventually(lambda: feed.finished.is_set(), timeout=10, message="replay finished")
    assert await pipeline.drain(10)
    replay_letters = len(await _dead_letters(pipeline.bus, topics.MARKET_TICKS))
    seen_before = engine.read_model.ticks_seen

    await pipeline.bus.publish_raw(topics.MARKET_TICKS, b"\x93not msgpack at all", key="408065")
    late = SESSION_START_NS + 3600 * 1_000_000_000
    await pipeline.bus.publish(topics.MARKET_TICKS, tick_event(tick(INFY, "1601.00", late)))
    assert await pipeline.drain(10)

    letters = (await _dead_letters(pipeline.bus, topics.MARKET_TICKS))[replay_letters:]
    processors = {letter.processor for letter in letters}
    assert {f"execution.{BROKER.value}", "strategy-runner"} <= processors
    assert all(letter.original == b"\x93not msgpack at all" for letter in letters)
    assert engine.read_model.ticks_seen == seen_before + 1  # the good tick after it landed
    assert pipeline.risk.state.last_prices[INFY[0]] == 1601
    assert _all_running(engine)


async def test_signal_with_negative_quantity_is_rejected_not_a_crash(
    runtime: tuple[EngineRuntime, dict[int, str]],
) -> None:
    engine, _ = runtime
    pipeline = engine.pipeline
    assert pipeline is not None
    feed: Any = pipeline.feed
    await eventually(lambda: feed.finished.is_set(), timeout=10, message="replay finished")
    assert await pipeline.drain(10)
    orders_before = len(await pipeline.store.list_orders(BROKER, limit=10_000))

    bad = make_signal(INFY, Side.BUY, -5, SESSION_START_NS + 60 * 1_000_000_000)
    wire = EventCodec("msgpack").encode(signal_event(bad, EventType.SIGNAL_RAW))
    await pipeline.bus.publish_raw(topics.signals_raw(BROKER), wire, key="k")
    await pipeline.bus.publish_raw(topics.signals_raw(BROKER), b"\xc1junk", key="k")
    assert await pipeline.drain(10)

    alerts = await pipeline.store.list_alerts(limit=50)
    refused = [a for a in alerts if "-5" in a.message and a.rule == "max_order_quantity"]
    assert len(refused) == 1
    assert "must be positive" in refused[0].message
    assert len(await pipeline.store.list_orders(BROKER, limit=10_000)) == orders_before
    letters = await _dead_letters(pipeline.bus, topics.signals_raw(BROKER))
    assert [letter.processor for letter in letters] == [f"risk.{BROKER.value}"]
    assert _all_running(engine)
