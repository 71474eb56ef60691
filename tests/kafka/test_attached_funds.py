"""Funds on a console attached to a Kafka cluster: the engine process holding the paper
venue publishes its funds; a console attached while it trades follows them over the bus,
and one attached later starts from the Redis read model with the same figures on its
funds line (before the bus has said anything)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alphapanda_tui.attach import AttachedRuntime
from alphapanda_tui.runtime import EngineRuntime
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
            assert shown == engine.read_model.funds
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
