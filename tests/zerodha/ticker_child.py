"""Runs the live feed in its own process (Twisted's reactor cannot restart) and reports.

Usage: python -m tests.zerodha.ticker_child API_KEY TOKEN TICKER_ROOT STALE_S TOKENS...
Prints one JSON status line every 0.1 s until stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal

from engine.bus import MemoryBus
from engine.events import topics
from engine.events.payloads import Tick
from engine.zerodha.ticker_feed import KiteTickerFeed


def convert(raw: dict) -> Tick:
    return Tick(
        instrument_token=raw["instrument_token"],
        symbol=f"NSE:{raw['instrument_token']}",
        last_price=Decimal(str(raw["last_price"])),
        exchange_ts=0,
    )


async def main() -> None:
    api_key, token, root, stale = sys.argv[1:5]
    tokens = [int(t) for t in sys.argv[5:]]
    bus = MemoryBus(partitions=1)
    sub = await bus.subscribe([topics.MARKET_TICKS], "probe")
    rejected: list[str] = []
    feed = KiteTickerFeed(
        api_key=api_key,
        access_token=token,
        ticker_root=root,
        bus=bus,
        tokens=tokens,
        convert=convert,
        stale_after_s=float(stale),
        on_token_rejected=rejected.append,
        reconnect_max_delay=5,
    )
    task = asyncio.create_task(feed.run())
    stdin_closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin, lambda: stdin_closed.set() if not sys.stdin.read(1) else None)
    prices: list[float] = []
    while not stdin_closed.is_set():
        for rec in await sub.fetch(1000, 0.1):
            prices.append(float(rec.envelope.data.last_price))
        await sub.commit([])
        conns = feed.connections
        print(
            json.dumps(
                {
                    "ticks": len(prices),
                    "last": prices[-1] if prices else None,
                    "connects": sum(c.connects for c in conns),
                    "connected": all(c.connected for c in conns) if conns else False,
                    "watchdog": sum(c.watchdog_reconnects for c in conns),
                    "rejected": rejected,
                    "health": feed.health().status.value,
                }
            ),
            flush=True,
        )
    feed.stop()
    await asyncio.wait_for(task, 5)


if __name__ == "__main__":
    asyncio.run(main())
