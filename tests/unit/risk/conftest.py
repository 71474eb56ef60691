"""Fixtures: start a RiskManager harness with the limits a test is about."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from engine.risk import RiskLimits
from tests.unit.risk.harness import RiskHarness

StartRisk = Callable[..., Awaitable[RiskHarness]]


@pytest.fixture
async def start_risk() -> AsyncIterator[StartRisk]:
    started: list[RiskHarness] = []

    async def start(risk_limits: RiskLimits, **kwargs: Any) -> RiskHarness:
        harness = await RiskHarness.start(risk_limits, **kwargs)
        started.append(harness)
        return harness

    yield start
    for harness in started:
        await harness.close()
