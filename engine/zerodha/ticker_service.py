"""The market feed in live mode: a Kite ticker per valid access token.

Logged out, there is nothing to subscribe with; a dead token stops the ticker (it stops
retrying on a 403 itself) and the next login starts a fresh one, which subscribes again.
Kite tick times are process-local naive datetimes: converted here, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.clock import Clock
from engine.events.payloads import ComponentHealth, Tick
from engine.events.types import ComponentStatus
from engine.instruments.registry import InstrumentRegistry
from engine.market.feeds.kite_ticks import tick_from_kite
from engine.strategies import StrategyBinding
from engine.waiting import set_within
from engine.zerodha.session import SessionInfo, ZerodhaSession
from engine.zerodha.ticker_feed import KiteTickerFeed

log = logging.getLogger("alphapanda.zerodha.live")
NOT_LOGGED_IN = "not logged in to Zerodha"


def traded_tokens(bindings: Sequence[StrategyBinding]) -> list[int]:
    """The instrument tokens the strategies trade, each once, in strategy order."""
    return list(dict.fromkeys(i.instrument_token for b in bindings for i in b.instruments))


def kite_tick_converter(registry: InstrumentRegistry, clock: Clock) -> Callable[..., Tick]:
    """``tick_from_kite`` for the ticker's dicts, whose times are naive *process-local* time.

    KiteTicker builds them with ``datetime.fromtimestamp(epoch)``; ``astimezone`` reads a
    naive datetime as local time too, so the epoch comes back exactly whatever TZ is.
    """

    def convert(raw: dict[str, Any]) -> Tick:
        fixed = dict(raw)
        for key in ("exchange_timestamp", "last_trade_time"):
            value = fixed.get(key)
            if isinstance(value, datetime) and value.tzinfo is None:
                fixed[key] = value.astimezone(UTC)
        return tick_from_kite(fixed, registry, received_ns=clock.now_ns())

    return convert


class LiveTickerService:
    """The market feed in live mode: a ``KiteTickerFeed`` per valid access token.

    Waits while logged out, starts a ticker once a token is valid, stops it when the
    token dies (the ticker itself stops retrying on a 403) and starts a fresh one, which
    subscribes again, after the next login. ``on_reconnect`` runs after every reconnect.
    """

    def __init__(
        self,
        *,
        session: ZerodhaSession,
        make_feed: Callable[[str], KiteTickerFeed],
        clock: Clock,
        on_reconnect: Callable[[], None] = lambda: None,
        check_interval_s: float = 0.5,
    ) -> None:
        self.name = "feed.kite"
        self._session = session
        self._make_feed = make_feed
        self._clock = clock
        self._on_reconnect = on_reconnect
        self._interval = check_interval_s
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self.feed: KiteTickerFeed | None = None
        self.feeds_started = 0
        self.last_tick_wall_ns: int | None = None

    async def run(self) -> None:
        self._stopping = False
        self._wake = asyncio.Event()
        while not self._stopping:
            info = self._session.info  # reading it is what notices the 06:00 expiry
            if info is None:
                await self._sleep()
                continue
            await self._run_feed(info)

    async def _run_feed(self, info: SessionInfo) -> None:
        feed = self._make_feed(info.access_token)
        self.feed = feed
        self.feeds_started += 1
        task = asyncio.create_task(feed.run(), name="feed.kite.ticker")
        connects = 0
        try:
            while not self._stopping and not task.done():
                current = self._session.info
                if feed.token_rejected or current is None or current is not info:
                    break
                total = sum(c.connects for c in feed.connections)
                if total > connects:
                    if connects:
                        self._on_reconnect()
                    connects = total
                await self._sleep()
        finally:
            feed.stop()
            try:
                async with asyncio.timeout(5):
                    await task
            except TimeoutError:
                task.cancel()
            except Exception:
                log.exception("kite ticker stopped with an error")

    async def _sleep(self) -> None:
        assert self._wake is not None
        await set_within(self._wake, self._interval)
        self._wake.clear()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self.wake()

    @property
    def connected(self) -> bool:
        feed = self.feed
        return bool(
            feed is not None
            and not feed.token_rejected
            and feed.connections
            and all(c.connected for c in feed.connections)
        )

    def health(self) -> ComponentHealth:
        if self.feed is not None and self._session.info is not None:
            return self.feed.health()
        status = ComponentStatus.DOWN if self.feeds_started else ComponentStatus.STOPPED
        return ComponentHealth(name=self.name, status=status, detail=NOT_LOGGED_IN)
