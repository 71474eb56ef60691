"""The whole paper pipeline over Kafka with the real PostgreSQL store and Redis read model:
ticks → signals → orders → fills → positions and P&L, mirrored into Redis; a poison
message is dead-lettered while trading goes on. Funds reach attached consoles: the engine
process holding the paper venue publishes them; a console attached while it trades
follows them over the bus, one attached later starts from Redis with the same figures on
its funds line (before the bus has said anything)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alphapanda_tui.attach import AttachedRuntime
from alphapanda_tui.runtime import EngineRuntime
from engine.events import topics
from engine.events.payloads import DeadLetter
from engine.events.types import TradingMode
from storage.read_cache import RedisReadCache
from tests.kafka.cluster import (
    BROKER,
    Books,
    cluster_env,
    poll,
    postgres_database,
    random_prefix,
    settings_for,
)
from widgets.funds_line import LONG, funds_text

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


async def test_paper_pipeline_over_kafka_into_postgres_and_redis(
    fresh_kafka: str, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    prefix = random_prefix()
    cache = RedisReadCache.from_url(redis_url, BROKER, prefix=prefix)
    async with postgres_database(postgres_url) as db_url:
        env = cluster_env(tmp_path / "home", fresh_kafka, db_url, redis_url, prefix)
        runtime = EngineRuntime(settings_for(env))
        await runtime.start()
        try:
            await poll(lambda: _fills(db_url, 10), 40, "fills from the simulated market")
            bus = runtime.pipeline.bus
            raw = topics.signals_raw(BROKER)
            await bus.publish_raw(raw, b"\x93not an envelope", key="poison")
            await bus.flush()
            before = len((await Books.load(db_url)).fills)
            letters = await _dead_letters(bus, topics.dlq(raw))
            assert letters[0].source_topic == raw
            assert "invalid envelope" in letters[0].error
            await poll(lambda: _fills(db_url, before + 5), 30, "trading goes on after the DLQ")
            await poll(cache.pnl, 10, "P&L in Redis")

            await runtime.controls.kill(operator="tester@ci")  # freeze the books to compare them
            await poll(lambda: _cache_matches_store(cache, db_url), 20, "Redis equals the store")

            async def halted_in_redis() -> bool:
                states = await cache.trading_states()
                return "global" in states and states["global"].mode is TradingMode.HALTED

            await poll(halted_in_redis, 20, "HALTED in Redis")
            states = await cache.trading_states()
            assert states["global"].mode is TradingMode.HALTED
            assert states["global"].operator == "tester@ci"
        finally:
            await runtime.stop()
            await cache.clear()
            await cache.aclose()
        books = await Books.load(db_url)
        assert books.problems() == []
        # Positions were stored; whether one is open at the instant of the kill is chance
        # (fast-ema crosses through flat), so only their agreement with the fills counts.
        assert books.positions


async def test_an_attached_console_shows_the_engines_funds_live_and_from_redis(
    fresh_kafka: str, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    prefix = random_prefix()
    cache = RedisReadCache.from_url(redis_url, BROKER, prefix=prefix)
    async with postgres_database(postgres_url) as db_url:

        def env(name: str) -> dict[str, str]:
            return cluster_env(tmp_path / name, fresh_kafka, db_url, redis_url, prefix)

        engine = EngineRuntime(settings_for(env("engine")))
        await engine.start()
        following = AttachedRuntime(settings_for(env("console-1")), operator="trader@desk-1")
        late: AttachedRuntime | None = None
        try:
            await following.start()
            start = engine.read_model.funds
            assert start is not None and start.source == "paper"
            await poll(lambda: _fills(db_url, 5), 40, "fills from the simulated market")
            await poll(lambda: engine.read_model.funds != start, 20, "funds moved by the fills")

            await engine.controls.kill(operator="tester@ci")  # the figures stop moving
            await poll(
                lambda: following.read_model.funds == engine.read_model.funds,
                20,
                "the attached console shows the engine's funds",
            )

            async def cached() -> bool:
                figures = await cache.funds()
                held = engine.read_model.funds
                return (
                    figures is not None
                    and held is not None
                    and (figures.available, figures.used) == (held.available, held.used)
                )

            await poll(cached, 20, "the engine's funds in Redis")

            late = AttachedRuntime(settings_for(env("console-2")), operator="trader@desk-2")
            await late.start()
            shown = late.read_model.funds  # before its reader has fetched anything
            held = engine.read_model.funds
            # The figures, not their time: the feed keeps ticking after the kill and the
            # paper funds are re-stamped (as_of_ns) with the same money a moment later.
            assert shown is not None and held is not None
            assert (shown.available, shown.used, shown.source) == (
                held.available,
                held.used,
                held.source,
            )
            line = funds_text(shown, LONG).plain
            assert line.startswith("Funds (paper)  Available ")
            assert f"{shown.available:,.2f}" in line
        finally:
            for console in (following, late):
                if console is not None:
                    await console.stop()
            await engine.stop()
            await cache.clear()
            await cache.aclose()


async def _fills(db_url: str, at_least: int) -> bool:
    return len((await Books.load(db_url)).fills) >= at_least


async def _cache_matches_store(cache: RedisReadCache, db_url: str) -> bool:
    cached = {(p.strategy, p.instrument_token): p.net_quantity for p in await cache.positions()}
    books = await Books.load(db_url)
    return bool(cached) and cached == books.positions == books.net_from_fills()


async def _dead_letters(bus, topic: str) -> list[DeadLetter]:
    sub = await bus.subscribe([topic], f"dlq-reader.{random_prefix()}")
    letters: list[DeadLetter] = []
    try:
        for _ in range(60):
            letters += [r.envelope.data for r in await sub.fetch(10, 0.5) if r.envelope]
            if letters:
                return letters
    finally:
        await sub.aclose()
    raise AssertionError(f"nothing on {topic}")
