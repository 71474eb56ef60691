"""Execution's CRITICAL alerts are kept in the alerts table (execution runs in one process
per cluster), so a trader who restarts still finds them pinned: an MIS square-off held
while HALTED, and an order Zerodha accepted only in part. Its warnings are not kept."""

from __future__ import annotations

import msgspec

from engine.events.envelope import EventEnvelope
from engine.events.payloads import OrderIntent, RiskAlert
from engine.events.types import Broker, Severity, Side, TradingMode
from engine.execution.reports import PlaceAck
from engine.market.square_off import MisCutoffs
from engine.memory_store import MemoryTradingStore
from engine.read_model.alert_seed import seed_alerts
from engine.read_model.model import ReadModel
from engine.read_model.run_clock import RunClock
from tests.unit.execution.conftest import Harness, RecordingAdapter, make_signal
from tests.unit.execution.test_mis_square_off import at, bought

PARTLY = "order c1 (1000) sliced by Zerodha: leg 2 of 2 rejected by Zerodha; not sent again"


def alerts_of(events: list[EventEnvelope]) -> list[RiskAlert]:
    return [e.data for e in events if isinstance(e.data, RiskAlert)]


async def restarted_console(store: MemoryTradingStore, now: int) -> ReadModel:
    """The alert book a console restarted on ``store`` at ``now`` starts from."""
    model = ReadModel(clock=RunClock(label="SIM"))
    model.event_ns = now
    await seed_alerts(model, store, Broker.PAPER)
    return model


async def test_an_mis_square_off_held_while_halted_is_pinned_again_after_a_restart() -> None:
    harness = await bought(Harness(mis_cutoffs=MisCutoffs()))
    harness.state.set(TradingMode.HALTED, reason="daily loss limit breached")
    crossing = await harness.tick("99", bid="99", ts=at(2, 15, 15))
    later = await harness.tick("98", bid="98", ts=at(2, 15, 16))
    [alert] = alerts_of(crossing + later)
    assert alert.severity is Severity.CRITICAL and "held" in alert.message

    (kept,) = harness.store.alerts  # once, though the position stays held
    assert (kept.rule, kept.message, kept.alert_ts) == (alert.rule, alert.message, alert.alert_ts)
    model = await restarted_console(harness.store, at(2, 15, 30))
    (line,) = model.alert_book.pinned
    assert line.alert.message == alert.message and line.alert.strategy == "ema"


class PartlyAccepted(RecordingAdapter):
    """Zerodha took the order but refused one of its autoslice legs."""

    async def place(self, intent: OrderIntent) -> PlaceAck:
        ack = await super().place(intent)
        return msgspec.structs.replace(ack, warning=PARTLY)


async def test_an_order_accepted_in_part_is_kept_and_pinned_after_a_restart() -> None:
    harness = Harness()
    harness.adapter = PartlyAccepted(harness.store)
    harness.service = harness.build()
    await harness.service.on_start()
    events = await harness.signal(make_signal("buy", Side.BUY, quantity=10))
    [alert] = alerts_of(events)
    assert alert.severity is Severity.CRITICAL and alert.message == PARTLY

    (kept,) = harness.store.alerts
    assert kept.message == PARTLY and kept.symbol == alert.symbol
    model = await restarted_console(harness.store, alert.alert_ts)
    (line,) = model.alert_book.pinned
    assert line.alert.message == PARTLY


async def test_a_warning_is_published_but_not_kept() -> None:
    harness = await bought(Harness(mis_cutoffs=MisCutoffs()))
    crossing = await harness.tick("102", bid="102", ts=at(2, 15, 15))  # squared off: WARNING
    [alert] = alerts_of(crossing)
    assert alert.severity is Severity.WARNING
    assert harness.store.alerts == []
