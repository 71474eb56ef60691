"""What a small screen still tells: whole component names in Health at 120×40 and a
pinned CRITICAL alert in the header at 80×24, where the alerts panel is below the fold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from alphapanda_tui.app import make_app
from engine.events import topics
from engine.events.payloads import ComponentHealth, HealthReport, RiskAlert
from engine.events.types import ComponentStatus, EventType, Severity
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, BusHarness, seed
from tests.tui.test_no_color import screen_text

NAMES = ("trading-state.paper", "read-model.paper", "control-requests", "execution.paper")


@asynccontextmanager
async def _console(size: tuple[int, int]) -> AsyncIterator[Console]:
    harness = BusHarness()
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=size) as pilot:
        await eventually(lambda: harness.started, message="engine not started")
        await seed(harness)
        console = Console(app, pilot, harness)
        await console.settle()
        yield console


async def test_health_names_are_whole_at_120x40() -> None:
    async with _console((120, 40)) as console:
        report = HealthReport(
            reporter="runtime",
            components=tuple(
                ComponentHealth(name=name, status=ComponentStatus.RUNNING, lag=12) for name in NAMES
            ),
            report_ts=START_NS,
        )
        await console.harness.publish(topics.SYSTEM_HEALTH, EventType.HEALTH, report)
        await console.settle()
        lines = screen_text(console.app).splitlines()
        for name in NAMES:
            (line,) = [line for line in lines if f"│{name} " in line]
            assert "running" in line and "lag" in line and "dlq 0" in line, line


async def test_a_pinned_critical_alert_is_in_the_header_at_80x24_until_acknowledged() -> None:
    async with _console((80, 24)) as console:
        alert = RiskAlert(
            severity=Severity.CRITICAL,
            rule="kill_switch",
            message="Kill switch pressed by trader@desk on paper; trading HALTED",
            alert_ts=START_NS,
        )
        await console.harness.publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert)
        await console.settle()
        text = screen_text(console.app)
        assert "Risk alerts" not in text  # below the fold at this size
        header = text.splitlines()[:2]
        assert any("▲ CRITICAL" in line and "10:15:00 kill_switch" in line for line in header)
        await console.pilot.press("a")
        await console.settle()
        assert "▲ CRITICAL" not in screen_text(console.app)
