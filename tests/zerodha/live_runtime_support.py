"""A live ``EngineRuntime`` against the loopback Kite: settings, login, signals, waits."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from alphapanda_tui.runtime import EngineRuntime, Ports, build_runtime
from alphapanda_tui.settings import Settings, load_settings
from alphapanda_tui.venues.zerodha import build_session
from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.clock import IST, ManualClock, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import Signal
from engine.events.types import Broker, EventType, OrderType, Product, Side
from engine.memory_store import MemoryTradingStore
from engine.zerodha.session import SessionInfo
from tests.kite_fake.server import FakeKite

# A Wednesday, 10:15 IST: NSE is open, the token is valid until 06:00 tomorrow.
MARKET_NS = datetime_to_ns(datetime(2025, 1, 15, 10, 15, 0, tzinfo=IST))
INFY = 408065
STRATEGIES_YAML = """\
strategies:
  - name: momo
    kind: momentum
    broker: zerodha
    params: {lookback: 2, threshold: 0.0002, quantity: 1}
    instruments: [NSE:INFY]
"""


def live_settings(home: Path, fake: FakeKite, **overrides: Any) -> Settings:
    strategies = home / "strategies.yaml"
    strategies.write_text(STRATEGIES_YAML)
    zerodha = {
        "api_key": fake.state.api_key,
        "api_secret": fake.state.api_secret,
        "api_root": fake.api_root,
        "ticker_root": fake.ticker_root,
        "login_url": f"{fake.api_root}/connect/login",
        **overrides.pop("zerodha", {}),
    }
    return load_settings(
        mode="live", home=home, strategies_file=strategies, zerodha=zerodha, **overrides
    )


async def log_in(settings: Settings, fake: FakeKite, clock: ManualClock, token: str) -> SessionInfo:
    """As ``alphapanda login`` does before the engine starts: the token file is written."""
    settings.ensure_home()
    fake.state.issue_request_token(token)
    return await build_session(settings, clock).exchange(token)


def live_runtime(
    settings: Settings,
    clock: ManualClock,
    *,
    ticker: bool = False,
    bus: EventBus | None = None,
    store: MemoryTradingStore | None = None,
    services: frozenset[str] | None = None,
) -> EngineRuntime:
    """A live runtime (a memory bus and store unless given); without ``ticker`` no feed runs."""
    feed = None if ticker else (lambda bus, registry: None)
    return build_runtime(
        settings,
        clock=clock,
        feed_factory=feed,
        ports=Ports(
            bus=MemoryBus(partitions=2, capacity=10_000) if bus is None else bus,
            store=MemoryTradingStore() if store is None else store,
        ),
        services=services,
    )


async def start(runtime: EngineRuntime) -> None:
    assert runtime._ports is not None
    await runtime._ports.bus.start()
    await runtime.start()
    assert runtime.pipeline is not None
    await runtime.pipeline.wait_ready()


async def send_signal(runtime: EngineRuntime, signal_id: str, quantity: int = 10) -> None:
    """A validated BUY of INFY for ``momo``, as risk would pass it to execution."""
    assert runtime._ports is not None
    signal = Signal(
        signal_id=signal_id,
        strategy="momo",
        instrument_token=INFY,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=quantity,
        order_type=OrderType.MARKET,
        product=Product.MIS,
        signal_ts=MARKET_NS,
    )
    event = new_event(
        EventType.SIGNAL_VALIDATED,
        signal,
        source="test",
        key=topics.order_key(Broker.ZERODHA, "momo", INFY),
        broker=Broker.ZERODHA,
    )
    await runtime._ports.bus.publish(topics.signals_validated(Broker.ZERODHA), event)


def as_text_frame(order: dict[str, Any]) -> dict[str, Any]:
    """What KiteTicker's ``on_order_update`` hands over: JSON-decoded, times as strings."""
    return json.loads(json.dumps(order))


def store_of(runtime: EngineRuntime) -> MemoryTradingStore:
    assert runtime._ports is not None
    return runtime._ports.store  # type: ignore[no-any-return]


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)
