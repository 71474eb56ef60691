"""An automatic halt nobody acknowledged is still pinned after the console restarts:
a trader who restarts after the engine halted itself (a stale feed, a dead Zerodha
token) still reads why trading is halted, not only that it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import textual.app
import textual.pilot

from alphapanda_tui.app import AlphaPandaApp
from engine.trading_state.control import TradingControl
from tests.helpers import eventually
from tests.tui.test_alerts_survive_restart import panel
from tests.tui.test_real_runtime import _one_turn
from tests.tui.test_restart_keeps_the_market import console_on, header

REASON = "feed stale for 30 s"


@pytest.fixture(autouse=True)
def keys_do_not_wait_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in ``test_real_runtime``: a running engine never lets the CPU idle."""
    monkeypatch.setattr(textual.app, "wait_for_idle", _one_turn)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _one_turn)


def control(app: AlphaPandaApp) -> TradingControl:
    """The engine's own control, the one a dead token or a stale feed halts through."""
    return app.handle.pipeline.control  # type: ignore[attr-defined]


async def test_an_automatic_halt_is_pinned_again_after_a_restart(isolated_home: Path) -> None:
    async with console_on(isolated_home, ticking=False) as app:
        await control(app).auto_halt(REASON, "feed_stale")
        await eventually(lambda: "▲ CRITICAL" in header(app), timeout=5, message="not pinned")
    async with console_on(isolated_home, ticking=False) as app:
        await eventually(
            lambda: "▲ CRITICAL" in header(app), timeout=10, message="halt not pinned again"
        )
        assert f"Trading HALTED on paper: {REASON}" in panel(app)
        (line,) = app.handle.read_model.alert_book.pinned
        assert (line.alert.rule, line.alert.message) == (
            "feed_stale",
            f"Trading HALTED on paper: {REASON}",
        )
