"""A tick burst costs at most ``refresh_hz`` redraws a second, and the last price still shows."""

from __future__ import annotations

import time
from decimal import Decimal

from engine.events import topics
from engine.events.envelope import new_event
from engine.events.types import EventType
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, tick

BURST = 20_000
INSTRUMENTS = 500


async def test_tick_burst_redraws_are_bounded_by_refresh_rate(console: Console) -> None:
    app, harness = console.app, console.harness
    bus = harness.bus
    held = 408065  # NSE:INFY, held by momentum in the seeded book
    before = app.refresh_count
    started = time.monotonic()
    for index in range(BURST):
        token = held if index % INSTRUMENTS == 0 else 1_000 + index % INSTRUMENTS
        price = f"{1500 + index % 100}.{index % 20 * 5:02d}"
        event = new_event(
            EventType.MARKET_TICK,
            tick(token, "NSE:X", price),
            source="test",
            key=str(token),
            ts_ns=START_NS,
        )
        if not bus.publish_nowait(topics.MARKET_TICKS, event):
            await bus.publish(topics.MARKET_TICKS, event)
    await harness.drained()
    await eventually(lambda: harness.read_model.ticks_seen >= BURST + 3)
    last_price = harness.read_model.ltp[held]
    positions = app.dashboard.query_one("#positions")
    await eventually(
        lambda: positions.cell_text("momentum:408065", "ltp") == f"{last_price:,.2f}",
        message="last price not drawn",
    )
    elapsed = time.monotonic() - started
    redraws = app.refresh_count - before
    assert 1 <= redraws <= app.refresh_hz * elapsed + 1, (redraws, elapsed)
    assert last_price == Decimal(f"{1500 + (BURST - INSTRUMENTS) % 100}.{0:02d}")
