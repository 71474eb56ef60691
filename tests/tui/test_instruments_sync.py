"""The console's "Sync instruments" (i): today's dump into the store, with a progress bar.

A real live ``EngineRuntime`` against the loopback Kite with the real ``KiteConnect``
client; the trader presses real keys and reads the modal, then the pre-trading checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from textual.widgets import ProgressBar, Static
from textual.widgets._toast import Toast

from alphapanda_tui.app import make_app
from engine.events.types import TradingMode
from screens.instruments_sync import InstrumentSyncScreen
from screens.login import LoginScreen
from screens.prechecks import PrecheckScreen
from tests.helpers import eventually
from tests.kite_fake.server import FakeKite
from tests.tui.harness import BusHarness
from tests.tui.live_console import LiveConsole
from tests.zerodha.live_runtime_support import INFY, store_of


@contextmanager
def kite_paused(fake: FakeKite) -> Iterator[None]:
    """Every request to the fake waits (the server holds its lock) until the block ends."""
    with fake.state.lock:
        yield


def sync_status(console: LiveConsole) -> Static:
    return console.app.screen.query_one("#sync-status", Static)


def instruments_check(console: LiveConsole) -> str:
    """The "instruments" line of the pre-trading checklist on screen."""
    return next(line for line in console.screen_text().splitlines() if "instruments" in line)


def instrument_requests(fake: FakeKite) -> list[str]:
    return [path for _method, path, _params in fake.state.requests if "instruments" in path]


@pytest.mark.kite
async def test_sync_key_shows_progress_fills_the_store_and_passes_the_precheck(
    logged_in: LiveConsole, fake_kite: FakeKite
) -> None:
    c = logged_in
    store = store_of(c.runtime)
    assert "NSE:INFY" not in store.instruments

    with kite_paused(fake_kite):  # the dump is still downloading
        await c.pilot.press("i")
        await eventually(lambda: isinstance(c.app.screen, InstrumentSyncScreen), message="no modal")
        await eventually(lambda: "Downloading the instruments dump" in c.screen_text())
        bar = c.app.screen.query_one("#sync-bar", ProgressBar)
        assert bar.total is None  # indeterminate until the dump's size is known
        await c.pilot.press("escape")  # closing now would cancel a half-written sync
        assert isinstance(c.app.screen, InstrumentSyncScreen)

    await eventually(lambda: "Synced" in c.screen_text(), timeout=10, message=c.screen_text())
    assert "Synced 4 instruments (NSE) — 0 rows skipped" in c.screen_text()
    assert sync_status(c).has_class("ok")
    assert bar.total == 4 and bar.progress == 4 and bar.percentage == 1
    assert instrument_requests(fake_kite) == ["/instruments/NSE"]
    assert store.instruments["NSE:INFY"].instrument_token == INFY
    assert store.instruments["NSE:RELIANCE"].instrument_token == 738561

    await c.pilot.press("escape")
    await eventually(lambda: c.app.screen is c.app.dashboard, message="modal still open")
    await c.pilot.press("r")
    await eventually(lambda: isinstance(c.app.screen, PrecheckScreen), message="no checklist")
    await eventually(lambda: "instruments" in c.screen_text())
    check = instruments_check(c)
    assert check.startswith("✔ OK") and "synced 2025-01-15" in check, check
    assert c.mode() is TradingMode.HALTED  # the other checks (ticker) still fail


@pytest.mark.kite
async def test_sync_while_logged_out_says_log_in_first(
    logged_out: LiveConsole, fake_kite: FakeKite
) -> None:
    c = logged_out
    await eventually(lambda: isinstance(c.app.screen, LoginScreen), message="no login modal")
    await c.pilot.press("escape")  # the trader dismisses the login for now
    await eventually(lambda: c.app.screen is c.app.dashboard)

    await c.pilot.press("i")
    await eventually(lambda: isinstance(c.app.screen, InstrumentSyncScreen), message="no modal")
    await eventually(lambda: "log in first (ctrl+l)" in c.screen_text(), message=c.screen_text())
    assert "Not logged in to Zerodha" in c.screen_text()
    assert sync_status(c).has_class("error") and "Synced" not in c.screen_text()
    assert instrument_requests(fake_kite) == []
    assert store_of(c.runtime).instruments == {}

    await c.pilot.press("escape")
    await eventually(lambda: c.app.screen is c.app.dashboard, message="modal still open")
    assert c.app.is_running and c.app.engine_running
    await c.pilot.press("ctrl+l")  # the advice works
    await eventually(lambda: isinstance(c.app.screen, LoginScreen))


async def test_paper_console_explains_that_sync_needs_a_zerodha_login() -> None:
    harness = BusHarness()
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await eventually(lambda: harness.started, message="engine not started")

        def toasts() -> str:
            return "\n".join(str(t.render()) for t in app.screen.query(Toast))

        await pilot.press("i")
        await eventually(lambda: "needs a Zerodha login" in toasts(), message="no notification")
        assert "alphapanda instruments sync" in toasts()
        assert app.screen is app.dashboard and app.is_running
