"""The Redis client of the read-model cache, built from settings and checked at start.

``ALPHAPANDA_REDIS__SSL=true`` means TLS: the URL's ``redis://`` becomes ``rediss://``
(a ``rediss://`` URL is TLS either way), so the setting can never be ignored in favour
of plaintext. Short socket timeouts keep an unreachable server from stalling start or
a graceful stop; ``require_reachable`` turns it into one clear line at start.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis

TIMEOUT_S = 2.0


class RedisUnreachableError(Exception):
    """The configured Redis does not answer (down, wrong address, TLS mismatch)."""


def tls_url(url: str, ssl: bool) -> str:
    """``url`` with the TLS scheme when ``ssl`` asks for it."""
    if ssl and url.startswith("redis://"):
        return "rediss://" + url[len("redis://") :]
    return url


def make_redis(url: str, *, password: str | None = None, ssl: bool = False) -> Redis:
    """A client for ``url`` (TLS when ``ssl``), with bounded connect and socket timeouts."""
    # An empty password is none; a password in the URL wins over this one (redis-py).
    return Redis.from_url(
        tls_url(url, ssl),
        socket_connect_timeout=TIMEOUT_S,
        socket_timeout=TIMEOUT_S,
        password=password or None,
    )


async def require_reachable(client: Redis, url: str) -> None:
    """PING once; raise ``RedisUnreachableError`` with one line naming host and cause."""
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        where = _where(url)
        cause = " ".join(str(exc).split()) or type(exc).__name__
        raise RedisUnreachableError(f"cannot reach Redis at {where}: {cause}") from None


def _where(url: str) -> str:
    """``host:port`` of ``url``, never its password."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    except ValueError:
        return "the configured address"
