"""A console attached to a Kafka cluster says when the cluster has gone silent.

Seen in the console (QA, ``alphapanda --attach`` on ``alphapanda engine --bus kafka``):
50 s after the engine was SIGKILLed, and again with the broker stopped, both attached
consoles still read ``PAPER ACTIVE SIM 08 Dec 2026 11:50:01 IST Market: OPEN`` with the
Day P&L of the last tick, and every health row ``running lag 0``. The feed's STALE line
was below the engine's sixteen components, out of sight at 120x40 (and the health panel
is not on screen at 80x24), so nothing visible told the trader the figures were frozen.

Here a real broker carries ticks and health reports from a stand-in engine to an
``AttachedRuntime`` console (Pilot); then the engine stops publishing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.attach import AttachedRuntime
from engine.bus.kafka import KafkaBus
from engine.clock import IST, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ComponentHealth, HealthReport, Tick
from engine.events.types import ComponentStatus, EventType
from tests.helpers import eventually
from tests.kafka.broker import fast_bus
from tests.kafka.cluster import BROKER, cluster_env, random_prefix, settings_for
from tests.tui.test_no_color import screen_text
from widgets.status_header import StatusHeader

pytestmark = [pytest.mark.kafka]

# a Wednesday at 11:00 IST: the simulated market is OPEN at the console's clock
MARKET_NS = datetime_to_ns(datetime(2026, 12, 9, 11, 0, tzinfo=IST))
STALE_AFTER_S = 1.0


async def _publish_tick(bus: KafkaBus, n: int) -> None:
    tick = Tick(
        instrument_token=408065,
        symbol="NSE:INFY",
        last_price=Decimal("1580.25") + n,
        exchange_ts=MARKET_NS + n * 1_000_000_000,
    )
    await bus.publish(topics.MARKET_TICKS, new_event(EventType.MARKET_TICK, tick, source="feed"))


async def _publish_health(bus: KafkaBus) -> None:
    report = HealthReport(
        reporter="engine-1",
        components=(ComponentHealth(name="risk.paper", status=ComponentStatus.RUNNING),),
    )
    event = new_event(EventType.HEALTH, report, source="engine-1", broker=BROKER)
    await bus.publish(topics.SYSTEM_HEALTH, event)


@asynccontextmanager
async def _attached(
    bootstrap: str, home: Path, size: tuple[int, int]
) -> AsyncIterator[tuple[AlphaPandaApp, Any, AttachedRuntime]]:
    env = cluster_env(home, bootstrap, f"sqlite+aiosqlite:///{home}/db.sqlite", None, "")
    env.pop("ALPHAPANDA_REDIS__KEY_PREFIX")
    env["ALPHAPANDA_FEED__STALE_AFTER_S"] = str(STALE_AFTER_S)
    runtime = AttachedRuntime(settings_for(env), operator="trader@desk")
    app = make_app(runtime, operator="trader@desk")  # type: ignore[arg-type]  # as the CLI
    async with app.run_test(size=size) as pilot:
        await eventually(lambda: runtime.reader is not None, timeout=30, message="not attached")
        await runtime.wait_ready(30)
        yield app, pilot, runtime


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_header_says_the_feed_is_stale_when_the_cluster_goes_silent(
    fresh_kafka: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    engine = fast_bus(fresh_kafka, client_id=random_prefix())
    await engine.start()
    try:
        await engine.ensure_topics([topics.MARKET_TICKS, topics.SYSTEM_HEALTH])
        async with _attached(fresh_kafka, tmp_path, size) as (app, pilot, runtime):
            model = runtime.read_model
            n = 0

            async def ticking() -> bool:
                nonlocal n
                n += 1
                await _publish_tick(engine, n)
                await _publish_health(engine)
                await engine.flush()
                return model.ticks_seen > 0 and "risk.paper" in model.components

            await eventually(ticking, timeout=30, interval=0.2, message="no tick reached it")
            app.refresh_from_model(True)
            await pilot.pause()
            header = app.dashboard.query_one("#header", StatusHeader).line
            assert "Market: OPEN" in header and "STALE" not in header, header

            # the engine dies (or the broker stops): nothing more arrives
            await eventually(
                lambda: (model.feed_age_s() or 0) > STALE_AFTER_S + 0.5,
                timeout=10,
                message="the feed never aged",
            )
            app.refresh_from_model(True)
            await pilot.pause()
            header = app.dashboard.query_one("#header", StatusHeader).line
            assert "FEED STALE" in header.splitlines()[0], screen_text(app)  # type: ignore[arg-type]  # on the first line
    finally:
        await engine.aclose()


def _health_row(app: AlphaPandaApp, name: str) -> str:
    text = screen_text(app)  # type: ignore[arg-type]
    rows = [line for line in text.splitlines() if f"│{name} " in line]
    assert rows, f"no {name} row on screen:\n{text}"
    return rows[0].split("│")[-2]


async def test_a_component_whose_reports_stop_is_not_shown_running(
    fresh_kafka: str, tmp_path: Path
) -> None:
    """Its last report said running; once no report has come for twice the feed-silence
    limit (health is reported every second) the row says SILENT and for how long."""
    engine = fast_bus(fresh_kafka, client_id=random_prefix())
    await engine.start()
    try:
        await engine.ensure_topics([topics.MARKET_TICKS, topics.SYSTEM_HEALTH])
        async with _attached(fresh_kafka, tmp_path, (120, 40)) as (app, pilot, runtime):
            model = runtime.read_model

            async def reported() -> bool:
                await _publish_health(engine)
                await engine.flush()
                return "risk.paper" in model.components

            await eventually(reported, timeout=30, interval=0.2, message="no health report")
            app.refresh_from_model(True)
            await pilot.pause()
            row = _health_row(app, "risk.paper")
            assert "running" in row and "SILENT" not in row, row

            await asyncio.sleep(2 * STALE_AFTER_S + 0.5)
            app.refresh_from_model(True)
            await pilot.pause()
            row = _health_row(app, "risk.paper")
            assert "running" not in row and "SILENT" in row and "no report 2s" in row, row
    finally:
        await engine.aclose()
