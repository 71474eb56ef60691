"""Database and Redis URLs checked when settings are built.

A URL that cannot be parsed, names a driver the engine cannot use, or carries an
impossible port used to surface as a traceback at the first connection. These checks
raise ``ValueError`` with a reason that never repeats the URL (it may hold a password).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_database_url(url: str) -> str:
    """``url`` when it is an async SQLite or PostgreSQL URL with a valid port."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(
            "not a database URL (expected e.g. postgresql+asyncpg://user@host:5432/db)"
        ) from None
    if parsed.drivername not in DATABASE_DRIVERS:
        raise ValueError(
            f"unsupported driver {parsed.drivername!r} (use {' or '.join(DATABASE_DRIVERS)})"
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ValueError(f"port {parsed.port} is outside 1-65535")
    if parsed.drivername.startswith("postgresql") and not parsed.database:
        raise ValueError("names no database (add /DBNAME)")
    return url


def check_redis_url(url: str) -> str:
    """``url`` when the Redis client would accept it: scheme, port and database number."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a Redis URL: {exc}") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise ValueError(
            "not a Redis URL (expected redis://host:6379/0, rediss://... or unix://...)"
        )
    if port == 0:
        raise ValueError("port 0 is outside 1-65535")
    if parts.scheme != "unix":
        db = parts.path.strip("/")
        if db and not (db.isdigit() and db.isascii()):
            raise ValueError(f"database {db!r} is not a number (e.g. /0)")
    return url
