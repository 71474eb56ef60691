"""Catches Zerodha's login redirect on a loopback port, so nothing has to be pasted.

A Kite app whose registered redirect URL is ``http://127.0.0.1:PORT/...`` sends the
browser there after sign-in, with ``request_token`` in the query. Listening on that port
(loopback only: the token must never be reachable from the network) turns the redirect
into the login, exactly as if its address had been pasted.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
_PAGE = (
    b"<!doctype html><title>AlphaPanda</title>"
    b"<p>Zerodha sign-in received. You can close this tab and return to the terminal.</p>"
)


def callback_port_of(callback_port: int | None, redirect_url: str | None) -> int | None:
    """The port to listen on: ``callback_port``, else that of a loopback ``redirect_url``."""
    if callback_port is not None:
        return callback_port
    if not redirect_url:
        return None
    parts = urlsplit(redirect_url)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS:
        return None
    try:
        return parts.port or 80
    except ValueError:
        return None


async def catch_redirect(port: int, *, timeout_s: float = 300.0) -> str:
    """Serve ``127.0.0.1:port`` until a request carries ``request_token``; its path+query.

    Requests without one (a favicon, a probe) get a 404 and are ignored. Raises
    ``TimeoutError`` when no redirect arrives in ``timeout_s``.
    """
    caught: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def on_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            target = line.split(" ")[1] if line.count(" ") >= 2 else ""
            found = "request_token=" in target or "status=" in target
            status = b"200 OK" if found else b"404 Not Found"
            body = _PAGE if found else b"not found"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Connection: close\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
            if found and not caught.done():
                caught.set_result(target)
        except (TimeoutError, ConnectionError, UnicodeError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_request, LOOPBACK, port)
    try:
        async with asyncio.timeout(timeout_s):
            return await caught
    finally:
        server.close()
        await server.wait_closed()
