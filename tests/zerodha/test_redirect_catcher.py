"""``alphapanda login`` catches Zerodha's redirect on a loopback port instead of a paste."""

from __future__ import annotations

import asyncio
import socket

import pytest

from engine.zerodha.redirect_catcher import callback_port_of, catch_redirect
from engine.zerodha.session import parse_request_token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _get(port: int, target: str) -> bytes:
    for _ in range(100):  # the catcher may not be listening yet
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except ConnectionRefusedError:
            await asyncio.sleep(0.01)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_the_redirect_is_caught_and_reads_as_a_pasted_address() -> None:
    port = _free_port()
    caught = asyncio.create_task(catch_redirect(port, timeout_s=5))

    favicon = await _get(port, "/favicon.ico")
    page = await _get(port, "/kite?action=login&type=login&status=success&request_token=abc123")

    assert favicon.startswith(b"HTTP/1.1 404")
    assert page.startswith(b"HTTP/1.1 200") and b"return to the terminal" in page
    assert parse_request_token(await caught) == "abc123"


async def test_no_redirect_in_time_is_a_timeout() -> None:
    with pytest.raises(TimeoutError):
        await catch_redirect(_free_port(), timeout_s=0.05)


@pytest.mark.parametrize(
    ("callback_port", "redirect_url", "port"),
    [
        (None, None, None),
        (None, "https://example.com/kite", None),  # not loopback: the trader pastes
        (None, "http://127.0.0.1:5123/kite", 5123),
        (None, "http://localhost/kite", 80),
        (6001, "http://127.0.0.1:5123/kite", 6001),  # an explicit port wins
    ],
)
def test_the_port_comes_from_the_setting_or_a_loopback_redirect_url(
    callback_port: int | None, redirect_url: str | None, port: int | None
) -> None:
    assert callback_port_of(callback_port, redirect_url) == port
