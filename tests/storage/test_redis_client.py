"""REDIS__SSL takes effect, and an unreachable Redis is one clear line, fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis.asyncio.connection import SSLConnection

from storage.redis_client import RedisUnreachableError, make_redis, require_reachable
from tests.integration.support import cli
from tests.services import REDIS_URL

pytestmark = pytest.mark.redis


def test_ssl_true_makes_a_tls_client_and_false_does_not() -> None:
    tls = make_redis("redis://127.0.0.1:6379/0", ssl=True)
    plain = make_redis("redis://127.0.0.1:6379/0", ssl=False)
    assert tls.connection_pool.connection_class is SSLConnection
    assert plain.connection_pool.connection_class is not SSLConnection
    assert make_redis("rediss://127.0.0.1:6379/0").connection_pool.connection_class is (
        SSLConnection
    )


async def test_a_reachable_redis_passes() -> None:
    client = make_redis(REDIS_URL)
    try:
        await require_reachable(client, REDIS_URL)
    finally:
        await client.aclose()


async def test_tls_to_a_plaintext_redis_fails_instead_of_falling_back() -> None:
    with pytest.raises(RedisUnreachableError, match=r"cannot reach Redis at 127\.0\.0\.1:6379"):
        await require_reachable(make_redis(REDIS_URL, ssl=True), REDIS_URL)


def test_engine_refuses_an_unreachable_redis_in_one_line_quickly(isolated_home: Path) -> None:
    began = time.monotonic()
    result = cli(
        isolated_home,
        "engine",
        "--max-seconds",
        "30",
        ALPHAPANDA_REDIS__URL="redis://:hunter2pass@127.0.0.1:1/0",
    )
    elapsed = time.monotonic() - began
    assert result.returncode == 2, result.stderr[-2000:]
    refusals = [line for line in result.stderr.splitlines() if line.startswith("alphapanda:")]
    assert len(refusals) == 1 and "cannot reach Redis at 127.0.0.1:1" in refusals[0]
    assert "Traceback" not in result.stderr and "hunter2pass" not in result.stderr
    assert elapsed < 20


def test_engine_with_redis_ssl_uses_tls(isolated_home: Path) -> None:
    """The local Redis speaks plaintext: a TLS client cannot talk to it, so the refusal
    proves the setting took effect (before, it silently connected in plaintext)."""
    result = cli(
        isolated_home,
        "engine",
        "--max-seconds",
        "30",
        ALPHAPANDA_REDIS__URL=REDIS_URL,
        ALPHAPANDA_REDIS__SSL="true",
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "cannot reach Redis at 127.0.0.1:6379" in result.stderr
    plain = cli(isolated_home, "engine", "--max-seconds", "3", ALPHAPANDA_REDIS__URL=REDIS_URL)
    assert plain.returncode == 0, plain.stderr[-2000:]
