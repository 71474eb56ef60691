"""Where the protection service runs: with risk, since its exits are signals risk judges;
a process without risk (feed and strategies scaled out on Kafka) keeps no protections."""

from __future__ import annotations

from engine.bus.memory import MemoryBus
from engine.instruments import load_default_registry
from engine.memory_store import MemoryTradingStore
from engine.pipeline import Pipeline, PipelineConfig, parse_services
from engine.protection.service import ProtectionService


def test_risk_brings_the_protection_service_and_feed_alone_does_not() -> None:
    assert "protection" in parse_services("risk")
    assert "protection" in parse_services(None)
    assert "protection" not in parse_services("feed,strategies")


def _services(selected: str | None) -> list[object]:
    pipeline = Pipeline(
        config=PipelineConfig(),
        bus=MemoryBus(),
        store=MemoryTradingStore(),
        registry=load_default_registry(),
        strategies=[],
        services=selected,
    )
    return [s for s in pipeline.services if isinstance(s, ProtectionService)]


def test_the_pipeline_runs_one_protection_service_with_risk_and_none_without() -> None:
    assert len(_services(None)) == 1
    assert len(_services("risk,execution")) == 1
    assert _services("strategies") == []
