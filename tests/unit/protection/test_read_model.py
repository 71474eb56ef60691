"""The read model shows each position's protection (issue 16.3, for the positions table):
what the service publishes as it sets, fires and removes one, and, for a console that
starts later, what the store holds."""

from __future__ import annotations

from decimal import Decimal

from engine.bus.memory import MemoryBus
from engine.events.envelope import new_event
from engine.events.payloads import ProtectionState
from engine.events.types import EventType
from engine.processing.emitter import Emitter
from engine.read_model.model import ReadModel
from engine.read_model.processor import ReadModelProcessor
from engine.read_model.seed import seed_protections, seed_read_model
from tests.unit.protection.harness import TOKEN, Harness, P


async def _show(model: ReadModel, states: list[object]) -> None:
    processor = ReadModelProcessor(bus=MemoryBus(), model=model, broker=P)
    for state in states:
        if isinstance(state, ProtectionState):
            event = new_event(EventType.PROTECTION_UPDATED, state, source="protection", broker=P)
            await processor.handle(event, Emitter(processor.name, event, 0))


async def test_the_console_sees_a_protection_set_fired_and_removed() -> None:
    h = await Harness.holding(10, average="1400.00")
    model = ReadModel()

    await _show(model, await h.protect(stop_pct=Decimal("1.5"), target_price=Decimal("1450.00")))
    shown = model.protections[("manual", TOKEN)]
    assert (shown.stop, shown.target, shown.fired) == (Decimal("1379.00"), Decimal("1450.00"), "")

    await _show(model, await h.send(h.tick_event("1378.00")))
    assert model.protections[("manual", TOKEN)].fired == "stop-loss"

    await _show(model, await h.position(0))
    assert model.protections == {}


async def test_a_console_started_later_draws_protections_from_the_store() -> None:
    h = await Harness.holding(-10, average="1400.00")
    await h.protect(stop_pct=Decimal("1.5"), trail_amount=Decimal("12.50"))
    model = ReadModel()

    await seed_read_model(model, h.store, P)
    await seed_protections(model, h.store, P)

    shown = model.protections[("manual", TOKEN)]
    assert (shown.stop, shown.trail, shown.fired) == (Decimal("1421.00"), Decimal("1412.50"), "")
