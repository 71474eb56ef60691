"""A live engine that starts without a Zerodha session halts and keeps the alarm in the
store: a trader who restarts before logging in still finds it pinned, with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.events.types import Broker, Severity
from engine.read_model.alert_seed import seed_alerts
from engine.read_model.model import ReadModel
from engine.read_model.run_clock import RunClock
from engine.zerodha.ticker_service import NOT_LOGGED_IN
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import (
    MARKET_NS,
    live_runtime,
    live_settings,
    start,
    store_of,
)

pytestmark = pytest.mark.kite


async def test_the_not_logged_in_halt_is_kept_and_pinned_after_a_restart(
    fake_kite: FakeKite, isolated_home: Path
) -> None:
    runtime = live_runtime(live_settings(isolated_home, fake_kite), ManualClock(MARKET_NS))
    await start(runtime)
    store = store_of(runtime)
    try:
        await eventually(lambda: bool(store.alerts), message="the halt was not stored")
    finally:
        await runtime.stop()
    (kept,) = store.alerts
    assert kept.severity is Severity.CRITICAL and NOT_LOGGED_IN in kept.message
    model = ReadModel(clock=RunClock(label="SIM"))  # the day of the test's clock
    model.event_ns = MARKET_NS
    await seed_alerts(model, store, Broker.ZERODHA)
    (line,) = model.alert_book.pinned
    assert line.alert.message == kept.message
