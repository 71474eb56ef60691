"""A split deployment: only the process that runs execution polls Zerodha's order book.

Every process polling would spend the account's shared API rate limit and publish each
venue update once per process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.events.types import TradingMode
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    MARKET_NS,
    live_runtime,
    live_settings,
    log_in,
    start,
)

pytestmark = pytest.mark.kite

POLLER = "zerodha.order_updates"


async def _service_names(
    fake_kite: FakeKite, home: Path, services: frozenset[str] | None
) -> list[str]:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(home, fake_kite)
    await log_in(settings, fake_kite, clock, f"reqtok{len(services or ())}")
    runtime = live_runtime(settings, clock, services=services)
    await start(runtime)
    try:
        assert runtime.pipeline is not None
        return [service.name for service in runtime.pipeline.services]
    finally:
        await runtime.stop()


async def test_a_strategies_only_process_does_not_poll_the_order_book(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    names = await _service_names(fake_kite, isolated_home, frozenset({"strategies"}))
    assert POLLER not in names


async def test_the_execution_process_polls_the_order_book(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    assert POLLER in await _service_names(fake_kite, isolated_home, frozenset({"execution"}))
    assert POLLER in await _service_names(fake_kite, isolated_home, None)


async def test_a_strategies_worker_starting_does_not_halt_live_trading(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    clock = ManualClock(MARKET_NS)
    settings = live_settings(isolated_home, fake_kite)
    await log_in(settings, fake_kite, clock, "reqtokWorker")
    runtime = live_runtime(settings, clock, services=frozenset({"strategies"}))
    await start(runtime)
    try:
        assert runtime.pipeline is not None
        assert runtime.pipeline.trading_state.scope_mode() is TradingMode.ACTIVE
        assert runtime.read_model.session.user == "Asha Trader"
    finally:
        await runtime.stop()
