"""While the engine starts, the console claims no state, funds or P&L it has not read yet.

Seen in tmux: after ``alphapanda kill``, a restarted console showed ``PAPER ACTIVE`` (and,
on another restart, every strategy ACTIVE and ``Funds Available 1,000,000.00``) for about
a second, until the engine had read the stored kill, halts and journal; then ``HALTED``.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from alphapanda_tui.app import make_app
from engine.events.types import TradingMode
from engine.execution.funds import Funds
from engine.read_model import GLOBAL_SCOPE, StrategyInfo
from tests.helpers import eventually
from tests.tui.harness import BusHarness
from tests.tui.test_no_color import screen_text


class SlowStart(BusHarness):
    """An engine whose start reads the store slowly: the stored kill arrives at its end."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.starting = asyncio.Event()
        # the paper funds model as built, before the journal is replayed into it
        self.read_model.set_funds(Funds(Decimal("1000000"), Decimal("0"), "paper"))

    async def start(self) -> None:
        self.starting.set()
        await super().start()
        await self.release.wait()  # the store being read
        model = self.read_model
        model.set_strategies([StrategyInfo("momentum", "momentum", ("NSE:INFY",))])
        model.set_trading_state(GLOBAL_SCOPE, TradingMode.HALTED, "kill from the command line")
        model.set_funds(Funds(Decimal("990000"), Decimal("5000"), "paper"))


async def test_the_header_says_nothing_of_the_state_until_the_engine_has_read_it() -> None:
    handle = SlowStart()
    app = make_app(handle, operator="trader@desk")
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(lambda: handle.starting.is_set() and handle.started)
        for _ in range(5):  # several refresh frames while the store is read
            await pilot.pause(0.05)
            app.refresh_from_model()
        screen = screen_text(app)
        assert "ACTIVE" not in screen, screen
        assert "1,000,000" not in screen, screen

        handle.release.set()
        await eventually(lambda: app.engine_running)
        await eventually(
            lambda: "HALTED" in app.dashboard.query_one("#header").line,  # type: ignore[attr-defined]
            message="the stored kill is not shown",
        )
        await pilot.pause(0.2)
        assert "995,000.00" in screen_text(app)  # the funds as read
