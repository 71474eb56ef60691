"""The console's funds in live mode (issue 16.4, 14.6): the running live runtime reads
Kite's ``margins()`` through the real ``kiteconnect`` client and the loopback Kite, and
the read model the dashboard draws holds the figures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.clock import ManualClock
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    MARKET_NS,
    live_runtime,
    live_settings,
    log_in,
    start,
)

pytestmark = pytest.mark.kite


async def test_the_console_shows_funds_from_kites_margins(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(isolated_home, fake_kite)
    await log_in(settings, fake_kite, clock, "reqtokFunds1")
    fake_kite.state.margin_available = 123456.78
    runtime = live_runtime(settings, clock)
    await start(runtime)
    try:
        await eventually(lambda: runtime.read_model.funds is not None, message="no funds")
        funds = runtime.read_model.funds
        assert funds is not None and funds.source == "zerodha"
        assert funds.available == Decimal("123456.78")  # Kite's net
        assert funds.used == Decimal("145706.55")  # the mock account's debits
        gets = [p for m, p, _ in fake_kite.state.requests if m == "GET"]
        assert "/user/margins/equity" in gets
    finally:
        await runtime.stop()
