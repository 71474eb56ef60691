"""A reconciliation gap a trader must decide on (an order that got no answer and is not
at Zerodha) is kept in the alerts table by the process whose pass found it, so a
restarted console still pins it; the WARNING-level differences are only published."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bus.memory import MemoryBus
from engine.events.types import Broker, OrderStatus, Severity
from engine.read_model.alert_seed import seed_alerts
from engine.read_model.model import ReadModel
from engine.read_model.run_clock import RunClock
from engine.zerodha.reconcile import Reconciler, bus_publisher
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_harness import live_venue
from tests.zerodha.test_reconcile import _place_direct

pytestmark = pytest.mark.kite


async def test_an_unanswered_order_absent_at_zerodha_is_pinned_after_a_restart(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    venue = await live_venue(fake_kite, tmp_path)
    lost = await venue.outbox("sig-lost")
    await venue.mark_sent(lost.client_order_id, None, OrderStatus.UNKNOWN)
    _place_direct(venue, "ZZnotours01")  # a WARNING: an order at Zerodha unknown here
    async with MemoryBus() as bus:
        publish = bus_publisher(bus, store=venue.store)
        report = await Reconciler(venue.session.client, venue.store, publish).run()
    assert sorted(d.subject for d in report.diffs) == ["order", "order"]
    (kept,) = venue.store.alerts
    assert kept.severity is Severity.CRITICAL and kept.rule == "reconciliation"
    assert lost.client_order_id in kept.message and "not placed" in kept.message
    model = ReadModel(clock=RunClock())
    await seed_alerts(model, venue.store, Broker.ZERODHA)
    (line,) = model.alert_book.pinned
    assert line.alert.message == kept.message
