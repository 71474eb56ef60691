"""An automatic halt is kept in the alerts table by the process that runs execution, so
a trader who restarts after it still finds it pinned (``seed_alerts``): why trading
stopped survives the restart. A process without execution, or a hot standby of it,
raises it but does not keep it: on Kafka every engine may see the token die and every
one obeys the kill, and the cluster keeps each alarm once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine.bus.base import EventBus
from engine.bus.memory import MemoryBus
from engine.clock import IST, ManualClock, datetime_to_ns
from engine.events.envelope import new_event
from engine.events.payloads import ControlCommand
from engine.events.types import Broker, ControlAction, EventType, Severity, TradingMode
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing import ProcessorConfig, Service
from engine.processing.emitter import Emitter
from engine.read_model.alert_seed import seed_alerts
from engine.read_model.model import ReadModel
from engine.read_model.run_clock import RunClock

T0 = datetime_to_ns(datetime(2025, 1, 15, 10, 15, 0, tzinfo=IST))  # a Wednesday, open
REASON = "Zerodha rejected the token; log in again (ctrl+l)"


class Lease:
    """A singleton wrapper as the Kafka bus's: ``active`` while this process holds it."""

    def __init__(self, service: Service, holds: bool) -> None:
        self.inner = service
        self.name = service.name
        self.active = holds


def _pipeline(
    bus: EventBus,
    store: MemoryTradingStore,
    services: str | None = None,
    lease: Callable[[str, Service], Service] | None = None,
) -> Pipeline:
    return Pipeline(
        config=PipelineConfig(
            broker=Broker.PAPER,
            instance_id="test-1",
            processing=ProcessorConfig(poll_timeout=0.01),
        ),
        bus=bus,
        store=store,
        registry=load_default_registry(),
        strategies=[],
        clock=ManualClock(T0),
        services=services,
        singleton=lease,
    )


async def restarted_console(store: MemoryTradingStore) -> ReadModel:
    """The alert book a console restarted on ``store`` starts from."""
    model = ReadModel(clock=RunClock(label="SIM"))
    model.event_ns = T0
    await seed_alerts(model, store, Broker.PAPER)
    return model


async def test_a_token_halt_is_kept_and_pinned_again_after_a_restart() -> None:
    store = MemoryTradingStore()
    async with MemoryBus() as bus:
        pipeline = _pipeline(bus, store)  # not started: the halt is the control's own
        await pipeline.control.auto_halt(REASON, "zerodha_token")
    assert pipeline.trading_state.scope_mode() is TradingMode.HALTED
    (kept,) = store.alerts
    assert kept.severity is Severity.CRITICAL and kept.rule == "zerodha_token"
    assert kept.message == f"Trading HALTED on paper: {REASON}"
    model = await restarted_console(store)
    (line,) = model.alert_book.pinned
    assert (line.alert.rule, line.alert.message) == (kept.rule, kept.message)


async def test_a_process_without_execution_raises_the_halt_but_does_not_keep_it() -> None:
    store = MemoryTradingStore()
    async with MemoryBus() as bus:
        pipeline = _pipeline(bus, store, services="feed,strategies")
        await pipeline.control.auto_halt(REASON, "zerodha_token")
    assert pipeline.trading_state.scope_mode() is TradingMode.HALTED
    assert store.alerts == []


def leased(holds: bool) -> Callable[[str, Service], Service]:
    def wrap(_stage: str, service: Service) -> Service:
        return Lease(service, holds)  # type: ignore[return-value]

    return wrap


async def kill(pipeline: Pipeline) -> None:
    """The kill switch's command, as every engine's trading-state service receives it."""
    command = ControlCommand(action=ControlAction.KILL, operator="trader@desk")
    event = new_event(EventType.CONTROL_COMMAND, command, source="test", broker=Broker.PAPER)
    await pipeline.state_service.handle(event, Emitter("test", event, T0))


async def test_on_a_cluster_only_the_execution_lease_holder_keeps_the_alarms() -> None:
    store = MemoryTradingStore()
    async with MemoryBus() as bus:
        holder = _pipeline(bus, store, lease=leased(True))
        standby = _pipeline(bus, store, lease=leased(False))
        risk_only = _pipeline(bus, store, services="risk")
        for engine in (holder, standby, risk_only):  # each sees the token die
            await engine.control.auto_halt(REASON, "zerodha_token")
            await kill(engine)  # and each obeys the kill
    assert sorted(a.rule for a in store.alerts) == ["kill_switch", "zerodha_token"]
    model = await restarted_console(store)
    assert sorted(line.alert.rule for line in model.alert_book.pinned) == [
        "kill_switch",
        "zerodha_token",
    ]
    assert all(line.count == 1 for line in model.alert_book.pinned)
