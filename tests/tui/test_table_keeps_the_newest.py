"""A newest-first table that nobody has touched keeps its newest rows in view; once the
trader puts the cursor on a row, the cursor follows that row wherever updates move it.

Found at 80×24 in a replay: after a dozen fills the dashboard's orders panel showed
10:41 first and hid the two newest orders, because the cursor followed the row that was
newest when the console opened and the view scrolled after it.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from widgets.keyed_table import KeyedTable


class _Positions(Static, can_focus=True):
    """The dashboard's focus starts on the positions, above the orders."""


class _Dashboard(App[object]):
    CSS = "#box { height: 5; }"  # the header and four rows, like the 80x24 orders panel

    def compose(self) -> ComposeResult:
        yield _Positions("positions", id="elsewhere")
        with Vertical(id="box"):
            yield KeyedTable([("time", "Time", 8), ("sym", "Symbol", 8)], id="orders")


def _newest_first(count: int) -> list[tuple[str, tuple[str, ...]]]:
    return [(f"o{i}", (f"10:{i:02d}", f"SYM{i:02d}")) for i in reversed(range(count))]


async def test_an_untouched_newest_first_table_keeps_the_newest_order_in_view() -> None:
    app = _Dashboard()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one("#orders", KeyedTable)
        for count in range(1, 13):  # orders arrive one by one, each on top
            table.sync(_newest_first(count))
            await pilot.pause()
        assert table.cursor_key == "o11"
        assert table.scroll_offset.y == 0  # the newest row is the first one drawn


async def test_a_row_the_trader_chose_is_followed_as_newer_rows_arrive() -> None:
    app = _Dashboard()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one("#orders", KeyedTable)
        table.sync(_newest_first(3))
        table.focus()
        await pilot.press("down")  # o1, chosen
        app.query_one("#elsewhere").focus()  # looks away: still the chosen row
        for count in range(4, 10):
            table.sync(_newest_first(count))
            await pilot.pause()
        assert table.cursor_key == "o1"
