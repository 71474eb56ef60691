"""The console on a replayed day: a trader presses the real keys and reads the header.

The day is a seeded simulated session written by the tick store's own writer; the replay
runs on the real embedded engine (paper, its own SQLite file under the test's home).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.replay_day import ReplayRuntime, build_replay_runtime
from engine.clock import IST, ns_to_datetime
from engine.events.types import OrderStatus, TradingMode
from engine.instruments import load_default_registry
from engine.market.feeds.paced_replay import PacedReplayFeed
from engine.market.feeds.simulated import SimulatedFeedConfig, iter_ticks
from engine.trading_state.manual import MANUAL_STRATEGY
from screens.kill_confirm import KillConfirmScreen
from storage.ticks.writer import TickWriter
from tests.helpers import eventually
from tests.integration.replay_support import DAY, TRADED, replay_test_settings
from tests.tui.test_order_ticket import _fill_in, _review, _send, _ticket

DAY_TICKS = 2_000  # 500 one-second rounds of the four instruments: 09:15 to 09:23


def record_day(home: Path) -> None:
    """The seeded session's ticks, written as the recorder writes them."""
    config = SimulatedFeedConfig(seed=11, instruments=TRADED, start_date=DAY, max_ticks=DAY_TICKS)
    writer = TickWriter(home / "ticks")
    writer.write(list(iter_ticks(load_default_registry(), config)))
    writer.close()


@dataclass
class ReplayConsole:
    app: AlphaPandaApp
    pilot: Pilot
    runtime: ReplayRuntime

    @property
    def replay(self) -> PacedReplayFeed:
        assert self.runtime.replay is not None
        return self.runtime.replay

    def header(self) -> str:
        self.app.refresh_from_model()
        return self.app.dashboard.query_one("#header").line  # type: ignore[attr-defined]

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.pilot.pause()


@pytest.fixture
async def replaying(tmp_path: Path) -> AsyncIterator[ReplayConsole]:
    home = tmp_path / "home"
    record_day(home)
    runtime = build_replay_runtime(replay_test_settings(home), DAY.isoformat(), speed=1.0)
    app = make_app(runtime, operator="trader@desk")
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(lambda: runtime.replay is not None and runtime.replay.published > 0)
        yield ReplayConsole(app, pilot, runtime)


async def test_the_header_says_replay_with_the_days_date_time_and_speed(
    replaying: ReplayConsole,
) -> None:
    header = replaying.header()
    assert "REPLAY 04 Dec 2026 09:15:" in header
    assert "Market: OPEN" in header  # the recorded day's market, not today's
    assert "PLAYING 1x" in header
    assert "space pause · . step · +/- speed" in header


async def test_space_pauses_the_ticks_and_the_clock_and_resumes_them(
    replaying: ReplayConsole,
) -> None:
    await replaying.press("space")
    assert "PAUSED 1x" in replaying.header()
    published, at = replaying.replay.published, replaying.runtime.clock.now_ns()
    await asyncio.sleep(1.5)  # longer than a round of the recorded day at 1x
    assert replaying.replay.published == published
    assert replaying.runtime.clock.now_ns() == at
    assert "STALE" not in replaying.app.dashboard.query_one("#health").render().__str__()

    await replaying.press("space")
    assert "PLAYING 1x" in replaying.header()
    await eventually(lambda: replaying.replay.published > published, timeout=5)


async def test_step_publishes_exactly_one_tick_each_press(replaying: ReplayConsole) -> None:
    await replaying.press("space")
    published = replaying.replay.published
    seen = replaying.runtime.read_model.ticks_seen

    await replaying.press("full_stop")
    await eventually(lambda: replaying.runtime.read_model.ticks_seen == seen + 1)
    await replaying.press("full_stop", "full_stop")
    await eventually(lambda: replaying.runtime.read_model.ticks_seen == seen + 3)

    assert replaying.replay.published == published + 3
    assert "PAUSED" in replaying.header()


async def test_greater_than_steps_to_the_next_second(replaying: ReplayConsole) -> None:
    await replaying.press("space")
    before = replaying.runtime.clock.now_ns()
    await replaying.press("greater_than_sign")
    after = replaying.runtime.clock.now_ns()
    assert after % 1_000_000_000 == 0 and 0 < after - before <= 1_000_000_000
    await eventually(lambda: replaying.replay.last_event_ts == after)  # that second's round


async def test_plus_and_minus_change_the_speed_shown_and_the_clock_rate(
    replaying: ReplayConsole,
) -> None:
    for shown in ("2x", "5x", "10x", "60x"):
        await replaying.press("plus")
        assert f"PLAYING {shown}" in replaying.header()
    await replaying.press("space", "plus")  # paused, so max has not ended the day yet
    assert "PAUSED max" in replaying.header()
    await replaying.press("space")
    await eventually(lambda: replaying.replay.ended, timeout=30)  # max: to the day's end
    assert "ENDED" in replaying.header()
    assert replaying.replay.published == DAY_TICKS


async def test_sixty_x_moves_the_clock_sixty_times_faster(replaying: ReplayConsole) -> None:
    await replaying.press("plus", "plus", "plus", "plus")
    assert "PLAYING 60x" in replaying.header()
    clock = replaying.runtime.clock
    loop = asyncio.get_running_loop()
    start_real, start_replayed = loop.time(), clock.now_ns()
    await asyncio.sleep(1.0)
    real = loop.time() - start_real
    replayed = (clock.now_ns() - start_replayed) / 1e9
    assert 2 * real < replayed <= 60 * real + 1  # never faster than 60x; its pipeline may lag
    await replaying.press("minus")
    assert "PLAYING 10x" in replaying.header()


async def test_the_kill_switch_halts_a_replay_and_orders_stop(replaying: ReplayConsole) -> None:
    await replaying.press("plus", "plus", "plus")  # 10x: the strategies trade within seconds
    model = replaying.runtime.read_model
    await eventually(lambda: len(model.orders) > 0, timeout=40, message="no order")

    await replaying.press("ctrl+k")
    await eventually(lambda: isinstance(replaying.app.screen, KillConfirmScreen))
    await replaying.press("enter")

    await eventually(lambda: "HALTED" in replaying.header(), timeout=3)
    assert replaying.runtime.global_mode is TradingMode.HALTED
    orders = set(model.orders)
    published = replaying.replay.published
    await eventually(lambda: replaying.replay.published > published + 40, timeout=40)
    new = [o for coid, o in model.orders.items() if coid not in orders]
    assert all(o.status is OrderStatus.REJECTED for o in new)  # the replay goes on, trading not


async def test_a_ticket_from_b_fills_on_the_replayed_market(replaying: ReplayConsole) -> None:
    console: Any = replaying  # the ticket helpers read only .app and .pilot
    screen = await _ticket(console)
    await _fill_in(console, screen, "INFY", "3")
    await _review(console)
    await _send(console)

    coid = screen.client_order_id
    model = replaying.runtime.read_model
    await eventually(
        lambda: coid in model.orders and model.orders[coid].status is OrderStatus.FILLED,
        timeout=10,
        message="the ticket did not fill",
    )
    order = model.orders[coid]
    assert (order.strategy, order.filled_quantity) == (MANUAL_STRATEGY, 3)
    assert ns_to_datetime(order.update_ts, IST).date() == DAY  # on the replayed day's clock
