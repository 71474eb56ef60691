"""SVG snapshots of Positions with a stop-loss, target and trailing stop, and of the exit and
protection dialogs: every rupee whole at 120×40 and over SSH at 80×24 (fixed clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from textual.pilot import Pilot

from engine.events.payloads import ProtectionState
from engine.events.types import Broker
from tests.tui.test_snapshots import SSH, WIDE, _console, _seeded
from widgets.positions_table import PositionsTable


def _protected(harness: object, *keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """The seeded dashboard with INFY (momentum, long 10 at 1,500) protected, its row
    selected, then ``keys`` pressed."""
    seeded = _seeded(harness)  # type: ignore[arg-type]  # a BusHarness

    async def run_before(pilot: Pilot) -> None:
        await seeded(pilot)
        model = harness.read_model  # type: ignore[attr-defined]
        (token,) = [t for (s, t), p in model.positions.items() if p.symbol.endswith("INFY")]
        model.apply_protection(
            ProtectionState(
                broker=Broker.PAPER,
                strategy="momentum",
                instrument_token=token,
                symbol="NSE:INFY",
                stop=Decimal("1390"),
                target=Decimal("1650.50"),
                trail=Decimal("1497.40"),
            )
        )
        pilot.app.refresh_from_model()  # type: ignore[attr-defined]
        table = pilot.app.screen.query_one("#positions", PositionsTable)
        table.cursor_row = table.row_keys.index(f"momentum:{token}")
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [WIDE, SSH], ids=["120x40", "80x24"])
def test_positions_show_the_protection(snap_compare, size: tuple[int, int]) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=size, run_before=_protected(harness))


def test_exit_dialog(snap_compare) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=SSH, run_before=_protected(harness, "e"))


def test_protection_dialog(snap_compare) -> None:
    app, harness = _console()
    assert snap_compare(app, terminal_size=SSH, run_before=_protected(harness, "p", "2", "%"))
