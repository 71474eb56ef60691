"""A CRITICAL alert nobody acknowledged is still pinned after the console restarts on the
same home; one the operator acknowledged before the stop is history, not pinned.

Seen in QA: after a kill (or an automatic halt) and a restart, the embedded console's
alerts panel was empty and the header showed no ``▲ CRITICAL``: the reason trading
stopped was gone, although the attached console re-pinned it from the Redis cache.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import textual.app
import textual.pilot
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp
from engine.read_model.alerts import AlertLine
from screens.kill_confirm import KillConfirmScreen
from storage.store import SqlTradingStore
from tests.helpers import eventually
from tests.tui.test_real_runtime import _one_turn
from tests.tui.test_restart_keeps_the_market import _settings, console_on, header


@pytest.fixture(autouse=True)
def keys_do_not_wait_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in ``test_real_runtime``: a running engine never lets the CPU idle."""
    monkeypatch.setattr(textual.app, "wait_for_idle", _one_turn)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _one_turn)


KILL_LINE = re.compile(r"▲ \d\d:\d\d:\d\d CRITICAL kill_switch")


def panel(app: AlphaPandaApp) -> str:
    """The alerts panel's text, its wrapped lines joined."""
    return " ".join(str(app.dashboard.query_one("#alerts").plain).split())  # type: ignore[attr-defined]


async def kill(app: AlphaPandaApp) -> None:
    """ctrl+k → Kill: the kill switch's CRITICAL alert pinned in the header."""
    pilot = Pilot(app)
    await pilot.press("ctrl+k")
    await eventually(lambda: isinstance(app.screen, KillConfirmScreen), timeout=5)
    await pilot.press("enter")
    await eventually(lambda: "▲ CRITICAL" in header(app), timeout=5, message="no pinned kill")


async def acknowledged(home: Path) -> bool:
    """An ``alerts.acknowledge`` row in the home's store (the key records one)."""
    async with await SqlTradingStore.open(_settings(home).database.url or "") as store:
        return bool(await store.list_audit_after(0, "alerts.acknowledge"))


async def test_an_unacknowledged_kill_is_pinned_again_after_a_restart(
    isolated_home: Path,
) -> None:
    async with console_on(isolated_home, ticking=False) as app:
        await kill(app)
    async with console_on(isolated_home, ticking=False) as app:
        await eventually(
            lambda: "▲ CRITICAL" in header(app), timeout=10, message="kill not pinned again"
        )
        assert "kill_switch" in header(app)
        assert "Kill switch pressed by trader@desk" in panel(app)
        (line,) = app.handle.read_model.alert_book.pinned
        assert line.alert.rule == "kill_switch"


async def test_a_kill_acknowledged_before_the_stop_is_not_pinned_after_it(
    isolated_home: Path,
) -> None:
    async with console_on(isolated_home, ticking=False) as app:
        await kill(app)
        await Pilot(app).press("a")
        await eventually(lambda: "▲ CRITICAL" not in header(app), timeout=5)
        await eventually(
            lambda: acknowledged(isolated_home), timeout=5, interval=0.1, message="no audit row"
        )
    async with console_on(isolated_home, ticking=False) as app:
        await eventually(
            lambda: "Kill switch pressed by trader@desk" in panel(app),
            timeout=10,
            message="the kill is not in the alerts panel",
        )
        assert "▲ CRITICAL" not in header(app)
        assert not app.handle.read_model.alert_book.pinned


async def test_a_kill_on_the_running_market_is_pinned_again_at_its_market_time(
    isolated_home: Path,
) -> None:
    """Other CRITICAL alerts may follow on the resumed market (an MIS square-off held by
    the halt); the kill stays pinned among them, at the market time it was pulled."""
    async with console_on(isolated_home, ticking=True) as app:
        model = app.handle.read_model
        await eventually(lambda: model.event_ns is not None, timeout=10, message="no tick")
        await kill(app)
        (before,) = model.alert_book.pinned
        shown = KILL_LINE.search(panel(app))
        assert shown is not None, panel(app)
    async with console_on(isolated_home, ticking=True) as app:
        model = app.handle.read_model

        def pinned_kill() -> list[AlertLine]:
            return [line for line in model.alert_book.pinned if line.alert.rule == "kill_switch"]

        await eventually(lambda: bool(pinned_kill()), timeout=10, message="kill not pinned again")
        await eventually(lambda: "▲ CRITICAL" in header(app), message="header not pinned")
        (after,) = pinned_kill()
        assert (after.alert, after.source_ts) == (before.alert, before.source_ts)
        await eventually(lambda: shown.group(0) in panel(app), message="not at its time")
