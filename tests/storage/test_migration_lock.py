"""Two engines starting together on an empty PostgreSQL database both end up at head."""

from __future__ import annotations

import asyncio

import pytest

from storage.migrate import current_async, head_revision, upgrade_async
from tests.storage.conftest import pg_database

pytestmark = pytest.mark.postgres


def test_concurrent_upgrades_of_an_empty_database_do_not_collide() -> None:
    async def race(url: str) -> str | None:
        racers = asyncio.gather(*(upgrade_async(url) for _ in range(4)))
        await asyncio.wait_for(racers, timeout=60)
        return await current_async(url)

    with pg_database() as url:
        assert asyncio.run(race(url)) == head_revision()
