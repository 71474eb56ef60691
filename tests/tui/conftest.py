"""Console fixtures: a harness engine with a fixed clock, and a running console over it.

And for live mode: the loopback Kite, and a console over a real live runtime against it,
logged in or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.tui.harness import BusHarness, seed
from tests.tui.live_console import LiveConsole, live_console


@dataclass
class Console:
    app: AlphaPandaApp
    pilot: Pilot
    harness: BusHarness

    async def settle(self) -> None:
        """Let the console consume what was published and draw one frame of it."""
        await self.harness.drained()
        self.app.refresh_from_model()
        await self.pilot.pause()

    def header(self) -> str:
        return self.app.dashboard.query_one("#header").line  # type: ignore[attr-defined]


@pytest.fixture
def harness() -> BusHarness:
    return BusHarness()


@pytest.fixture
async def console(harness: BusHarness) -> AsyncIterator[Console]:
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(lambda: harness.started, message="engine not started")
        await seed(harness)
        view = Console(app, pilot, harness)
        await view.settle()
        yield view


@pytest.fixture
def fake_kite() -> Iterator[FakeKite]:
    with FakeKite() as fake:
        yield fake


@pytest.fixture
async def logged_out(fake_kite: FakeKite, isolated_home: Path) -> AsyncIterator[LiveConsole]:
    async for console in live_console(fake_kite, isolated_home, logged_in=False):
        yield console


@pytest.fixture
async def logged_in(fake_kite: FakeKite, isolated_home: Path) -> AsyncIterator[LiveConsole]:
    async for console in live_console(fake_kite, isolated_home, logged_in=True):
        yield console
