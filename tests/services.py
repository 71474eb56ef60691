"""Reaching the real services the integration tests use.

In CI (``CI=true``) a missing service fails the test; elsewhere it skips with a reason
that says how to start the service.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

POSTGRES_URL = os.environ.get(
    "ALPHAPANDA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("ALPHAPANDA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

HOW_TO_START = {
    "postgres": "start it: pg_ctlcluster --skip-systemctl-redirect "
    "$(ls /etc/postgresql) main start",
    "redis": 'start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" '
    "--appendonly no",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or fail in CI) when ``host:port`` does not answer."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}; {HOW_TO_START.get(name, '')}"
    if in_ci():
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


async def admin_sql(sql: str, admin_url: str = POSTGRES_URL) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database(
    admin_url: str = POSTGRES_URL, prefix: str = "alphapanda_t"
) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(6)}"
    await admin_sql(f'CREATE DATABASE "{name}"', admin_url)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)
