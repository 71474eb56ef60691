"""A pipeline is whole once built: what runs beside the trading stages (here the poller
that applies ``alphapanda kill`` from storage) is given at construction, never added later."""

from __future__ import annotations

import asyncio

from engine.bus.memory import MemoryBus
from engine.clock import ManualClock
from engine.events.types import Broker, TradingMode
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing import ProcessorConfig
from engine.trading_state.requests import ACK_PREFIX, request_record
from tests.helpers import eventually


def _pipeline(bus: MemoryBus, store: MemoryTradingStore, **kwargs: object) -> Pipeline:
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
        clock=ManualClock(1_000),
        **kwargs,  # type: ignore[arg-type]
    )


async def test_a_kill_left_in_storage_halts_a_pipeline_built_to_read_requests() -> None:
    store = MemoryTradingStore()
    async with MemoryBus() as bus:
        pipeline = _pipeline(bus, store, control_requests=store)
        await pipeline.start()
        try:
            await store.add_audit(
                request_record("kill", "asha@desk", 2_000, broker="paper", request_id="r-1")
            )
            await eventually(
                lambda: pipeline.trading_state.scope_mode() is TradingMode.HALTED,
                message="the kill request was applied",
            )
            await eventually(
                lambda: any(a.action.startswith(ACK_PREFIX) for a in store.audit),
                message="the CLI's wait for an acknowledgement ends",
            )
            acks = await store.list_audit_after(0, ACK_PREFIX)
            assert [(a.actor, a.action) for a in acks] == [("engine test-1", "ack.kill")]
            assert acks[0].detail["executes_orders"] is True  # execution runs here
        finally:
            await pipeline.stop()


async def test_a_pipeline_without_a_request_store_ignores_requests() -> None:
    store = MemoryTradingStore()
    async with MemoryBus() as bus:
        pipeline = _pipeline(bus, store)
        assert "control-requests" not in [s.name for s in pipeline.services]
        await pipeline.start()
        try:
            await store.add_audit(request_record("kill", "asha@desk", 2_000, broker="paper"))
            await asyncio.sleep(0.3)  # six poll intervals of a poller, had there been one
            assert pipeline.trading_state.scope_mode() is TradingMode.ACTIVE
        finally:
            await pipeline.stop()
