"""Live market data through ``KiteTicker``: Twisted thread in, asyncio bus out.

Ticks cross threads through ``loop.call_soon_threadsafe`` into a bounded inbox. A
watchdog reconnects a socket that is connected but silent (a known KiteTicker failure).
A 403 on the upgrade means the token is dead: retrying stops at once (no 50 reconnects
with a dead token) and ``on_token_rejected`` tells the engine to halt and ask for login.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.bus.base import EventBus
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ComponentHealth, Tick
from engine.events.types import ComponentStatus, EventType
from engine.zerodha.reactor import call_in_reactor, ensure_reactor

log = logging.getLogger("alphapanda.feed")
MAX_PER_CONNECTION = 3000
MAX_CONNECTIONS = 3


@dataclass
class _Connection:
    index: int
    tokens: list[int]
    ticker: Any
    connected: bool = False
    connects: int = 0
    reconnect_attempts: int = 0
    last_tick_monotonic: float = 0.0
    watchdog_reconnects: int = 0


def chunk_tokens(
    tokens: Sequence[int], per_connection: int = MAX_PER_CONNECTION
) -> list[list[int]]:
    """Split subscriptions over connections: 3,000 instruments each, at most 3 connections."""
    unique = list(dict.fromkeys(tokens))
    if len(unique) > per_connection * MAX_CONNECTIONS:
        raise ValueError(
            f"{len(unique)} instruments exceed Kite's limit of "
            f"{per_connection * MAX_CONNECTIONS} ({MAX_CONNECTIONS} connections x {per_connection})"
        )
    return [unique[i : i + per_connection] for i in range(0, len(unique), per_connection)] or [[]]


class KiteTickerFeed:
    """A supervised service: ``run()`` until ``stop()``; ``health()`` for the console."""

    def __init__(
        self,
        *,
        api_key: str,
        access_token: str,
        ticker_root: str,
        bus: EventBus,
        tokens: Sequence[int],
        convert: Callable[[dict[str, Any]], Tick | None],
        mode: str = "full",
        stale_after_s: float = 10.0,
        on_token_rejected: Callable[[str], None] | None = None,
        on_order_update: Callable[[dict[str, Any]], None] | None = None,
        reconnect_max_tries: int = 50,
        reconnect_max_delay: int = 60,
        per_connection: int = MAX_PER_CONNECTION,
        inbox_size: int = 100_000,
        ticker_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.name = "feed.kite"
        self._api_key = api_key
        self._access_token = access_token
        self._root = ticker_root
        self._bus = bus
        self._groups = chunk_tokens(tokens, per_connection)
        self._convert = convert
        self._mode = mode
        self._stale_after = stale_after_s
        self._on_token_rejected = on_token_rejected
        self._on_order_update = on_order_update
        self._max_tries = reconnect_max_tries
        self._max_delay = reconnect_max_delay
        self._factory = ticker_factory
        self._inbox: deque[dict[str, Any]] = deque(maxlen=inbox_size)
        self.dropped = 0
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._connections: list[_Connection] = []
        self.token_rejected: str | None = None
        self.ticks_published = 0
        self.last_tick_ts: int | None = None
        self.bad_ticks = 0

    # -- service -----------------------------------------------------------------------
    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        ensure_reactor()
        self._connections = [self._open(i, group) for i, group in enumerate(self._groups)]
        log.info(
            "kite feed started",
            extra={
                "connections": len(self._connections),
                "instruments": sum(map(len, self._groups)),
            },
        )
        try:
            while not self._stopping:
                try:
                    async with asyncio.timeout(0.5):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                self._wake.clear()
                await self._publish_inbox()
                self._watchdog()
        finally:
            for conn in self._connections:
                call_in_reactor(conn.ticker.close, 1000, "feed stopped")
            log.info("kite feed stopped")

    def stop(self) -> None:
        self._stopping = True
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def health(self) -> ComponentHealth:
        if self.token_rejected:
            status, detail = ComponentStatus.DOWN, f"token rejected: {self.token_rejected}"
        elif not self._connections or self._stopping:
            status, detail = ComponentStatus.STOPPED, "not running"
        elif all(c.connected for c in self._connections):
            status, detail = ComponentStatus.RUNNING, self._describe()
        else:
            status, detail = ComponentStatus.DEGRADED, "reconnecting: " + self._describe()
        return ComponentHealth(
            name=self.name,
            status=status,
            detail=detail,
            processed=self.ticks_published,
            last_event_ts=self.last_tick_ts,
        )

    def _describe(self) -> str:
        return ", ".join(
            f"conn{c.index}: {'up' if c.connected else 'down'} {len(c.tokens)} instr "
            f"{c.connects} connects {c.watchdog_reconnects} stale-resets"
            for c in self._connections
        )

    @property
    def connections(self) -> list[_Connection]:
        return list(self._connections)

    # -- reactor side (callbacks run on the Twisted thread) ------------------------------
    def _open(self, index: int, tokens: list[int]) -> _Connection:
        factory = self._factory
        if factory is None:
            from kiteconnect import KiteTicker

            factory = KiteTicker
        ticker = factory(
            self._api_key,
            self._access_token,
            root=self._root,
            reconnect_max_tries=self._max_tries,
            reconnect_max_delay=self._max_delay,
        )
        conn = _Connection(
            index=index, tokens=tokens, ticker=ticker, last_tick_monotonic=time.monotonic()
        )
        loop = self._loop
        assert loop is not None

        def on_connect(ws: Any, response: Any) -> None:
            conn.connected = True
            conn.connects += 1
            conn.last_tick_monotonic = time.monotonic()
            if tokens:
                ws.subscribe(tokens)
                ws.set_mode(self._mode, tokens)
            log.info(
                "kite ticker connected", extra={"connection": index, "instruments": len(tokens)}
            )

        def on_ticks(ws: Any, ticks: list[dict[str, Any]]) -> None:
            conn.last_tick_monotonic = time.monotonic()
            loop.call_soon_threadsafe(self._accept, ticks)

        def on_close(ws: Any, code: Any, reason: Any) -> None:
            conn.connected = False

        def on_error(ws: Any, code: Any, reason: Any) -> None:
            conn.connected = False
            if "403" in str(reason):
                ws.stop_retry()  # a dead token: never hammer Zerodha with it
                loop.call_soon_threadsafe(self._token_dead, "ticker upgrade refused (403)")

        def on_reconnect(ws: Any, attempts: int) -> None:
            conn.reconnect_attempts = attempts

        def on_noreconnect(ws: Any) -> None:
            conn.connected = False
            loop.call_soon_threadsafe(log.error, "kite ticker gave up reconnecting")

        def on_order_update(ws: Any, data: dict[str, Any]) -> None:
            if self._on_order_update is not None:
                loop.call_soon_threadsafe(self._on_order_update, data)

        ticker.on_connect = on_connect
        ticker.on_ticks = on_ticks
        ticker.on_close = on_close
        ticker.on_error = on_error
        ticker.on_reconnect = on_reconnect
        ticker.on_noreconnect = on_noreconnect
        ticker.on_order_update = on_order_update
        call_in_reactor(ticker.connect, True)
        return conn

    # -- loop side ---------------------------------------------------------------------
    def _accept(self, ticks: list[dict[str, Any]]) -> None:
        if len(self._inbox) + len(ticks) > (self._inbox.maxlen or 0):
            self.dropped += len(ticks)
        self._inbox.extend(ticks)
        if self._wake is not None:
            self._wake.set()

    def _token_dead(self, reason: str) -> None:
        if self.token_rejected:
            return
        self.token_rejected = reason
        log.error("kite ticker: access token rejected; stopped retrying", extra={"reason": reason})
        if self._on_token_rejected is not None:
            self._on_token_rejected(reason)

    async def _publish_inbox(self) -> None:
        inbox = self._inbox
        while inbox:
            raw = inbox.popleft()
            try:
                tick = self._convert(raw)
            except Exception as exc:  # a bad packet never kills the feed
                self.bad_ticks += 1
                log.warning("kite tick rejected", extra={"error": str(exc)})
                continue
            if tick is None:
                continue
            envelope = new_event(
                EventType.MARKET_TICK, tick, source=self.name, key=str(tick.instrument_token)
            )
            await self._bus.publish(topics.MARKET_TICKS, envelope)
            self.ticks_published += 1
            self.last_tick_ts = tick.exchange_ts

    def _watchdog(self) -> None:
        now = time.monotonic()
        for conn in self._connections:
            if (
                conn.connected
                and conn.tokens
                and now - conn.last_tick_monotonic > self._stale_after
            ):
                conn.watchdog_reconnects += 1
                conn.connected = False
                conn.last_tick_monotonic = now
                log.warning(
                    "kite ticker silent: forcing a reconnect",
                    extra={"connection": conn.index, "stale_s": self._stale_after},
                )
                call_in_reactor(_drop, conn.ticker)


def _drop(ticker: Any) -> None:
    """Abort the transport; the reconnecting factory dials again and resubscribes."""
    if ticker.ws is not None:
        ticker.ws.dropConnection(abort=True)
