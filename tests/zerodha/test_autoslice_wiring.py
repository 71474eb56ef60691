"""The run's freeze policy reaches the live venue: the pipeline hands it to the adapter,
so an order above the freeze goes out with autoslice and is cancelled leg by leg."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.bus.memory import MemoryBus
from engine.events.types import Broker
from engine.instruments import load_default_registry
from engine.instruments.freeze import FreezePolicy, FreezeTable
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig
from engine.risk.limits import RiskLimits
from engine.zerodha.adapter import ZerodhaAdapter

REGISTRY = load_default_registry()
RELIANCE = REGISTRY.by_key("NSE:RELIANCE")


class _NoSession:
    def client(self) -> Any:
        raise AssertionError("no request is made here")

    def on_expired(self, listener: Callable[[str], None]) -> None:
        pass


def test_the_pipeline_gives_the_live_adapter_the_freeze_policy() -> None:
    adapter = ZerodhaAdapter(_NoSession())
    freeze = FreezePolicy(FreezeTable({"NSE:RELIANCE": 500}))
    Pipeline(
        config=PipelineConfig(broker=Broker.ZERODHA, risk=RiskLimits(freeze=freeze)),
        bus=MemoryBus(),
        store=MemoryTradingStore(),
        registry=REGISTRY,
        strategies=[],
        adapter=adapter,
    )

    assert not adapter.sliced(RELIANCE.instrument_token, 500)
    assert adapter.sliced(RELIANCE.instrument_token, 501)
