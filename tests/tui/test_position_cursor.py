"""The positions cursor stays on the position the trader chose while live updates add
rows above it: ``e`` and ``p`` then act on that position, not on the row that slid under
the cursor. A BusHarness console (real read model and bus); the engine's controls are
recorded as the console calls them."""

from __future__ import annotations

from textual.pilot import Pilot

from engine.events import topics
from engine.events.types import EventType
from screens.position_exit import ExitPositionScreen
from screens.protection_dialog import ProtectionScreen
from tests.helpers import eventually
from tests.tui.harness import BusHarness, position, seed
from tests.tui.test_snapshots import _console
from widgets.positions_table import PositionsTable

HDFCBANK, ITC = 341249, 424961  # new positions that sort above RELIANCE (by symbol)
RELIANCE = 738561


def _table(pilot: Pilot) -> PositionsTable:
    return pilot.app.screen.query_one("#positions", PositionsTable)


async def _seeded_with_reliance_selected(pilot: Pilot, harness: BusHarness) -> PositionsTable:
    """The seeded morning (INFY, RELIANCE, SBIN, TOTAL); the trader clicks RELIANCE."""
    await eventually(lambda: harness.started)
    await seed(harness)
    await harness.drained()
    pilot.app.refresh_from_model()  # type: ignore[attr-defined]
    await pilot.pause()
    table = _table(pilot)
    assert [k.split(":")[1] for k in table.row_keys[:3]] == ["408065", str(RELIANCE), "779521"]
    await pilot.click("#positions", offset=(2, 2))  # the header, INFY, then RELIANCE
    assert table.selected_position is not None
    assert table.selected_position.symbol == "NSE:RELIANCE"
    return table


async def _a_position_opens_above(
    pilot: Pilot, harness: BusHarness, token: int, symbol: str
) -> None:
    """A strategy's fill opens a position whose row sorts above the cursor."""
    table = _table(pilot)
    await harness.publish(
        topics.positions(harness.broker),
        EventType.POSITION_UPDATED,
        position("momentum", token, symbol, 7, "100.00"),
    )
    await harness.drained()
    pilot.app.refresh_from_model()  # type: ignore[attr-defined]
    await eventually(lambda: f"momentum:{token}" in table.row_keys, message=f"no {symbol} row")
    await pilot.pause()


async def test_e_exits_the_position_selected_before_a_new_one_appeared_above_it() -> None:
    app, harness = _console()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _seeded_with_reliance_selected(pilot, harness)
        at_first = table.cursor_row

        await _a_position_opens_above(pilot, harness, HDFCBANK, "NSE:HDFCBANK")

        assert table.cursor_row == at_first + 1  # the row moved down; the cursor with it
        assert table.selected_position is not None
        assert table.selected_position.symbol == "NSE:RELIANCE"
        await pilot.press("e")
        await eventually(lambda: isinstance(app.screen, ExitPositionScreen))
        await eventually(lambda: bool(app.screen.query("#confirm")))
        question = str(app.screen.query_one("#dialog-question").render())
        assert "RELIANCE" in question and "HDFCBANK" not in question
        await pilot.press("enter")  # blank limit: at MARKET
        await eventually(lambda: any(name == "exit" for name, _ in harness.calls))
        assert [c for c in harness.calls if c[0] == "exit"] == [
            ("exit", ("NSE:RELIANCE", "momentum"))
        ]


async def test_p_protects_the_position_selected_before_a_new_one_appeared_above_it() -> None:
    app, harness = _console()
    async with app.run_test(size=(120, 40)) as pilot:
        await _seeded_with_reliance_selected(pilot, harness)

        await _a_position_opens_above(pilot, harness, ITC, "NSE:ITC")

        await pilot.press("p")
        await eventually(lambda: isinstance(app.screen, ProtectionScreen))
        await eventually(lambda: bool(app.screen.query("#confirm")))
        await pilot.press(*"2", "%")
        await pilot.press("enter")
        await eventually(lambda: any(name == "protect" for name, _ in harness.calls))
        assert [c for c in harness.calls if c[0] == "protect"] == [
            ("protect", ("momentum", RELIANCE))
        ]
