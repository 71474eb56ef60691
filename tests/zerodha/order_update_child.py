"""Places an order and listens for its update over the real KiteTicker, in its own process.

Usage: python -m tests.zerodha.order_update_child API_KEY TOKEN API_ROOT TICKER_ROOT
Prints JSON lines: {"placed": order_id} once the socket is up, then one per OrderUpdate.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

import msgspec
from kiteconnect import KiteConnect

from engine.bus import MemoryBus
from engine.events.payloads import OrderUpdate
from engine.events.types import OrderStatus
from engine.memory_store import MemoryTradingStore
from engine.zerodha.adapter import ZerodhaAdapter
from engine.zerodha.order_updates import ZerodhaOrderUpdates
from engine.zerodha.ticker_feed import KiteTickerFeed
from tests.zerodha.live_harness import mark_sent, write_outbox


class _Session:
    def __init__(self, api_key: str, token: str, root: str) -> None:
        self._args = (api_key, token, root)

    def client(self) -> Any:
        api_key, token, root = self._args
        return KiteConnect(api_key=api_key, access_token=token, root=root)

    def on_expired(self, listener: Callable[[str], None]) -> None:
        return None


def _say(value: object) -> None:
    print(json.dumps(value), flush=True)


async def main() -> None:
    api_key, token, api_root, ticker_root = sys.argv[1:5]
    session = _Session(api_key, token, api_root)
    store = MemoryTradingStore()
    adapter = ZerodhaAdapter(session)

    async def sink(update: OrderUpdate) -> None:
        _say(json.loads(msgspec.json.encode(update)))

    updates = ZerodhaOrderUpdates(session.client, store, sink)
    feed = KiteTickerFeed(
        api_key=api_key,
        access_token=token,
        ticker_root=ticker_root,
        bus=MemoryBus(partitions=1),
        tokens=[],
        convert=lambda raw: None,
        on_order_update=updates.on_ticker_update,
    )
    task = asyncio.create_task(feed.run())
    while not any(c.connected for c in feed.connections):
        await asyncio.sleep(0.02)
    intent = await write_outbox(store, "sig-socket")
    ack = await adapter.place(intent)
    await mark_sent(store, intent.client_order_id, ack.broker_order_id, OrderStatus.OPEN)
    _say({"placed": ack.broker_order_id})
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    feed.stop()
    await asyncio.wait_for(task, 5)


if __name__ == "__main__":
    asyncio.run(main())
