"""A live table repaints what changed: a moved price its own line, a new row in a table
that scrolls in its panel the table alone (no layout of the whole screen).

Each frame the console hands the terminal is captured as Textual renders it; what a
trader would notice is asserted on: the lines sent again, and the screen's text after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.widgets import Static

from tests.tui.test_no_color import screen_text
from widgets.keyed_table import KeyedTable

ROWS = 12  # more than the table's box shows (8 lines: the header and 7 rows)


def _rows(count: int, moved: dict[int, str] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    prices = {i: f"{100 + i}.00" for i in range(count)} | (moved or {})
    return [(f"k{i}", (f"SYM{i:02d}", prices[i])) for i in range(count)]


class _Board(App[object]):
    """A line of text over a table in a box shorter than its rows, like the dashboard."""

    CSS = "#box { height: 8; }"

    def compose(self) -> ComposeResult:
        yield Static("P&L line", id="above")
        with Vertical(id="box"):
            yield KeyedTable([("sym", "Symbol", 8), ("ltp", "LTP", 8)], id="t")

    def on_mount(self) -> None:
        self.frames: list[Any] = []
        display = self._display

        def sending(screen: Any, update: Any) -> None:
            display(screen, update)
            if update is not None:
                self.frames.append(update)

        self._display = sending  # type: ignore[method-assign, assignment]  # the frames, as sent


def _lines_sent(app: _Board) -> set[int]:
    """The screen lines the frames since the last look sent to the terminal."""
    lines = {y for frame in app.frames for y, _, _ in getattr(frame, "spans", [])}
    if any(not hasattr(frame, "spans") for frame in app.frames):
        lines |= set(range(app.size.height))  # a whole-screen frame
    app.frames.clear()
    return lines


@dataclass
class _Drawn:
    """A board drawn with its first rows: later frames and layouts are recorded."""

    app: _Board
    pilot: Pilot[object]
    table: KeyedTable
    layouts: list[object] = field(default_factory=list)


@asynccontextmanager
async def _drawn(rows: int) -> AsyncIterator[_Drawn]:
    app = _Board()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one("#t", KeyedTable)
        table.sync(_rows(rows))
        table.focus()
        await pilot.pause()
        _lines_sent(app)
        drawn = _Drawn(app, pilot, table)
        app.screen.screen_layout_refresh_signal.subscribe(table, drawn.layouts.append)
        yield drawn


async def test_a_moved_price_sends_only_its_line() -> None:
    async with _drawn(ROWS) as board:
        app, table = board.app, board.table
        top = table.region.y  # the header's line; row i is on top + 1 + i

        table.sync(_rows(ROWS, moved={3: "99.95"}))
        await board.pilot.pause()

        assert _lines_sent(app) == {top + 1 + 3}
        shown = screen_text(app).splitlines()
        assert "SYM03" in shown[top + 4] and "99.95" in shown[top + 4]
        assert "SYM02" in shown[top + 3] and "102.00" in shown[top + 3]


async def test_a_row_added_to_a_scrolling_table_repaints_the_table_not_the_screen() -> None:
    async with _drawn(ROWS) as board:
        app, table = board.app, board.table

        table.sync(_rows(ROWS + 1))  # a new order: one more row, the box as tall as before
        await board.pilot.pause()

        assert board.layouts == []  # no layout of the whole screen for it
        sent = _lines_sent(app)
        assert sent and all(table.region.y <= y < table.region.bottom for y in sent)
        await board.pilot.press("end")  # the scroll reaches the new last row
        assert table.cursor_key == f"k{ROWS}"
        assert f"SYM{ROWS}" in screen_text(app)


async def test_a_table_that_grows_into_its_box_is_laid_out_again() -> None:
    async with _drawn(2) as board:
        table = board.table
        assert table.region.height == 3  # the header and two rows

        table.sync(_rows(4))
        await board.pilot.pause()

        assert board.layouts and table.region.height == 5
        assert "SYM03" in screen_text(board.app)


async def test_rows_gone_from_a_table_scrolled_to_its_end_leave_no_blank_lines() -> None:
    async with _drawn(ROWS + 8) as board:
        table = board.table
        await board.pilot.press("end")

        table.sync(_rows(ROWS))  # orders gone: still more rows than the box shows
        await board.pilot.pause()

        lines = screen_text(board.app).splitlines()[table.region.y : table.region.bottom]
        assert "SYM11" in lines[-1]  # the last row on the last line, no blank below it
        assert table.cursor_key == f"k{ROWS - 1}"
