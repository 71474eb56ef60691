"""A console over a real live ``EngineRuntime`` against the loopback Kite, and what it shows.

Memory bus and store, no ticker, the real ``KiteConnect`` client; optionally logged in
beforehand, as ``alphapanda login`` would have done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from alphapanda_tui.app import AlphaPandaApp, make_app
from alphapanda_tui.runtime import EngineRuntime
from alphapanda_tui.settings import Settings
from engine.clock import ManualClock
from engine.events.types import TradingMode
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.zerodha.live_runtime_support import MARKET_NS, live_runtime, live_settings, log_in


@dataclass
class LiveConsole:
    app: AlphaPandaApp
    pilot: Pilot
    runtime: EngineRuntime
    settings: Settings

    def header(self) -> str:
        return self.app.dashboard.query_one("#header").line  # type: ignore[attr-defined]

    def screen_text(self) -> str:
        """Everything the current screen shows, as plain text."""
        parts = [str(w.render()) for w in self.app.screen.query(Static)]
        parts += [w.value for w in self.app.screen.query(Input)]
        return "\n".join(parts)

    def status(self) -> str:
        return str(self.app.screen.query_one("#login-status", Static).render())

    async def paste(self, text: str) -> None:
        self.app.screen.query_one("#login-paste", Input).value = text
        await self.pilot.press("enter")

    def mode(self) -> TradingMode:
        return self.runtime.global_mode


async def live_console(
    fake: FakeKite, home: Path, *, logged_in: bool
) -> AsyncIterator[LiveConsole]:
    """The running console; with ``logged_in`` the token file holds today's session."""
    clock = ManualClock(MARKET_NS)
    settings = live_settings(home, fake)
    if logged_in:
        await log_in(settings, fake, clock, "reqtokTui1")
    runtime = live_runtime(settings, clock)
    assert runtime._ports is not None
    await runtime._ports.bus.start()
    app = make_app(runtime, operator="trader@desk")
    async with app.run_test(size=(130, 40)) as pilot:
        await eventually(lambda: app.engine_running, message="engine not started")
        yield LiveConsole(app, pilot, runtime, settings)
