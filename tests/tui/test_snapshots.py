"""SVG snapshots of what a trader sees, at 120×40 and over SSH at 80×24.

Deterministic: a ManualClock, fixed events and fixed log times; no wall-clock text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from textual.pilot import Pilot

from alphapanda_tui.app import AlphaPandaApp, make_app
from engine.execution.funds import Funds
from tests.helpers import eventually
from tests.tui.harness import BusHarness, seed

WIDE = (120, 40)
SSH = (80, 24)
# Crore-sized figures: the funds line must show every digit even at 80 columns.
_FUNDS = {
    "paper": Funds(Decimal("12345678.90"), Decimal("2468013.57"), "paper"),
    "live": Funds(Decimal("99725.05"), Decimal("145706.55"), "zerodha"),
}


def _console(mode: str = "paper") -> tuple[AlphaPandaApp, BusHarness]:
    harness = BusHarness(mode)
    return make_app(harness, operator="trader@desk"), harness


def _seeded(harness: BusHarness, *keys: str) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await eventually(lambda: harness.started)
        await seed(harness)
        await harness.drained()
        harness.read_model.set_funds(_FUNDS[harness.mode])
        pilot.app.refresh_from_model()  # type: ignore[attr-defined]
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await harness.drained()
        pilot.app.refresh_from_model()  # type: ignore[attr-defined]
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [WIDE, SSH], ids=["120x40", "80x24"])
def test_dashboard(snap_compare, size: tuple[int, int]) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=size, run_before=_seeded(harness))


def test_help(snap_compare) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=WIDE, run_before=_seeded(harness, "question_mark"))


def test_log_viewer(snap_compare) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=WIDE, run_before=_seeded(harness, "l"))


def test_kill_confirm(snap_compare) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=WIDE, run_before=_seeded(harness, "ctrl+k"))


def test_live_halted_over_ssh(snap_compare) -> None:
    """LIVE in reverse $error and HALTED in words, at 80 columns."""
    app, harness = _console("live")
    assert snap_compare(app, terminal_size=SSH, run_before=_seeded(harness, "ctrl+k", "enter"))
