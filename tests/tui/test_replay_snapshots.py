"""Snapshots of the console on a replayed day, with the replay's clock held still.

The replay starts paused at the day's first tick on a real-time clock that never moves,
and the trader steps it tick by tick, so every figure on the screen is the same each run:
the recorded day's prices, the strategies' orders and fills, REPLAY with the replayed
date and time, PAUSED and the speed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.replay_day import (
    ReplayRuntime,
    day_ticks,
    fresh_store,
    recorded_day,
    replay_settings,
    tick_stores,
)
from engine.market.feeds.paced_replay import ReplayClock
from tests.helpers import eventually
from tests.integration.replay_support import DAY, replay_test_settings
from tests.tui.test_replay_console import record_day
from tests.tui.test_snapshots import SSH, WIDE
from widgets.orders_table import OrdersTable

STEPS = 60  # fifteen rounds of the four instruments: the strategies have traded by then


def _paused_replay(home: Path) -> tuple[AlphaPandaApp, ReplayRuntime]:
    record_day(home)
    settings = replay_test_settings(home)
    recorded = recorded_day(tick_stores(settings), DAY.isoformat())
    isolated = replay_settings(settings, recorded.day)
    fresh_store(isolated)
    clock = ReplayClock(recorded.first_ts, speed=10.0, paused=True, monotonic_ns=lambda: 0)
    ticks = day_ticks(recorded.root, recorded.day)
    runtime = ReplayRuntime(isolated, day=recorded.day, ticks=ticks, clock=clock)
    return make_app(runtime, operator="trader@desk"), runtime


def _stepped(runtime: ReplayRuntime) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await eventually(lambda: runtime.replay is not None and runtime.replay.published > 0)
        assert runtime.replay is not None and runtime.pipeline is not None
        replay, bus = runtime.replay, runtime.pipeline.bus
        for step in range(1, STEPS + 1):
            target = replay.published + 1
            await pilot.press("full_stop")
            await eventually(lambda: replay.published == target, message=f"step {step}")  # noqa: B023
            await eventually(lambda: bus.total_lag() == 0)
        await eventually(lambda: runtime.read_model.ticks_seen == replay.published)
        model = runtime.read_model  # a health report from after the last step: no lag shown
        await eventually(
            lambda: model.components and all(c.lag == 0 for c in model.components.values())
        )
        pilot.app.refresh_from_model(True)  # type: ignore[attr-defined]
        # The table follows its cursor row as newer orders land above it, as far as a
        # frame saw them: show the newest first, as a trader pressing Home would.
        dashboard = pilot.app.dashboard  # type: ignore[attr-defined]
        dashboard.query_one("#orders", OrdersTable).action_cursor_first()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [WIDE, SSH], ids=["120x40", "80x24"])
def test_replay_console(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    app, runtime = _paused_replay(tmp_path / "home")
    assert snap_compare(app, terminal_size=size, run_before=_stepped(runtime))
