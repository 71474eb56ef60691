"""``KeyedTable``: keyed rows drawn line by line from cached strips, brought up to date by diff.

A DataTable renders every visible cell through Rich again whenever any cell changes (its
caches are keyed by one table-wide update counter), and adding or removing a row re-indexes
the whole table: with prices moving under the 10 Hz refresh that was ~20 ms a frame per
table, on the loop the engine and the kill key share. Here a row becomes one ``Strip``
when its cells change, and a frame only crops cached strips. The cursor (by row index) and
the scroll position survive every refresh, as the trader left them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Row = tuple[object, ...]
CELL_PADDING = 1  # a space either side of every cell, as DataTable draws them


class Cell(NamedTuple):
    """One cell as drawn: its text, its style and how it sits in its column."""

    plain: str
    style: Style
    justify: str


def _cell(value: object) -> Cell | Text:
    """A plain cell, or the Text itself when it carries spans (rare: drawn through Rich)."""
    if isinstance(value, Text):
        if value.spans:
            return value
        style = value.style
        return Cell(
            value.plain,
            Style.parse(style) if isinstance(style, str) else style,
            value.justify or "left",
        )
    return Cell("" if value is None else str(value), Style.null(), "left")


def _fit(plain: str, width: int, justify: str) -> str:
    """``plain`` in exactly ``width`` cells: cut with an ellipsis, or padded as justified."""
    length = cell_len(plain)
    if length > width:
        return set_cell_size(plain, width - 1) + "…" if width > 0 else ""
    gap = width - length
    if justify == "right":
        return " " * gap + plain
    if justify == "center":
        left = gap // 2
        return " " * left + plain + " " * (gap - left)
    return plain + " " * gap


class KeyedTable(ScrollView, can_focus=True):
    """Rows keyed by a string; ``sync`` adds new rows, redraws changed ones, drops stale ones."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keyed-table--header", "keyed-table--cursor"}
    DEFAULT_CSS = """
    KeyedTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .keyed-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .keyed-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .keyed-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .keyed-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .keyed-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First row", show=False),
        Binding("end", "cursor_last", "Last row", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, init=False)

    def __init__(self, columns: Sequence[tuple[str, str, int]], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._column_spec = list(columns)
        self._column_index = {key: i for i, (key, _, _) in enumerate(self._column_spec)}
        self._widths = [width for _, _, width in self._column_spec]
        self._total_width = sum(w + 2 * CELL_PADDING for w in self._widths)
        self._given: dict[str, Row] = {}  # what sync was handed, for cell_text
        self._cells: dict[str, tuple[Cell | Text, ...]] = {}
        self._strips: dict[str, tuple[Style, Strip]] = {}  # row key → (base style, strip)
        self._header: tuple[Style, Strip] | None = None
        self._base: Style | None = None  # rich_style walks every ancestor: once per style change
        self._order: list[str] = []
        self.cell_updates = 0  # cells that changed, across syncs (tests and benchmarks)

    def on_mount(self) -> None:
        self.virtual_size = Size(self._total_width, len(self._order) + 1)

    # -- data ----------------------------------------------------------------------------
    @property
    def row_keys(self) -> list[str]:
        """Keys in display order."""
        return list(self._order)

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    def cell_text(self, row_key: str, column_key: str) -> str:
        """What a trader reads in one cell (plain text, before any cut to the column)."""
        value = self._given[row_key][self._column_index[column_key]]
        return value.plain if isinstance(value, Text) else str(value)

    def sync(self, rows: Sequence[tuple[str, Row]]) -> None:
        """Make the table show ``rows`` (key, cells) in this order, redrawing only differences."""
        keys = [key for key, _ in rows]
        changed = keys != self._order
        if changed:
            wanted = set(keys)
            for key in [k for k in self._cells if k not in wanted]:
                del self._cells[key]
                del self._given[key]
                self._strips.pop(key, None)
        for key, given in rows:
            if self._given.get(key) is given:
                continue  # the very same row object: nothing to compare
            self._given[key] = given
            cells = tuple(_cell(value) for value in given)
            old = self._cells.get(key)
            if old != cells:
                self.cell_updates += (
                    len(cells)
                    if old is None
                    else sum(a != b for a, b in zip(old, cells, strict=False))
                )
                self._cells[key] = cells
                self._strips.pop(key, None)
                changed = True
        if not changed:
            return
        self._order = keys
        if self.cursor_row >= len(keys):
            self.cursor_row = max(0, len(keys) - 1)
        size = Size(self._total_width, len(keys) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()

    # -- drawing -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None  # focus, theme: rows whose strips were drawn on another style redraw
        self._header = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base
        if base is None:
            base = self._base = self.rich_style
        if y == 0:
            strip, fill = self._header_strip(base), self._header_style(base)
        else:
            index = scroll_y + y - 1
            if not 0 <= index < len(self._order):
                return Strip.blank(width, base)
            strip, fill = self._row_strip(self._order[index], base), base
            if index == self.cursor_row:  # the cursor's colours win, to the right edge
                fill = base + self.get_component_rich_style("keyed-table--cursor")
                strip = Strip(
                    [Segment(text, (style or base) + fill) for text, style, _ in strip],
                    strip.cell_length,
                )
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def _header_style(self, base: Style) -> Style:
        return base + self.get_component_rich_style("keyed-table--header")

    def _header_strip(self, base: Style) -> Strip:
        if self._header is None or self._header[0] != base:
            cells = [Cell(label, Style.null(), "left") for _, label, _ in self._column_spec]
            self._header = (base, self._strip(cells, self._header_style(base)))
        return self._header[1]

    def _row_strip(self, key: str, base: Style) -> Strip:
        cached = self._strips.get(key)
        if cached is None or cached[0] != base:
            cached = (base, self._strip(self._cells[key], base))
            self._strips[key] = cached
        return cached[1]

    def _strip(self, cells: Sequence[Cell | Text], base: Style) -> Strip:
        pad = Segment(" " * CELL_PADDING, base)
        segments: list[Segment] = []
        for cell, width in zip(cells, self._widths, strict=False):
            segments.append(pad)
            if isinstance(cell, Text):
                text = cell.copy()
                text.truncate(width, overflow="ellipsis", pad=True)
                text.align(cell.justify or "left", width)  # type: ignore[arg-type]
                segments.extend(Segment.apply_style(text.render(self.app.console), base))
            else:
                style = base + cell.style if cell.style else base
                segments.append(Segment(_fit(cell.plain, width, cell.justify), style))
            segments.append(pad)
        return Strip(segments, self._total_width)

    # -- the cursor ----------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()

    @property
    def _page(self) -> int:
        """Rows visible below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        """Keep the cursor row between the header and the bottom edge."""
        visible = self._page
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _move_cursor(self, row: int) -> None:
        if self._order:
            self.cursor_row = min(max(row, 0), len(self._order) - 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._move_cursor(self.cursor_row - self._page)

    def action_page_down(self) -> None:
        self._move_cursor(self.cursor_row + self._page)

    def action_cursor_first(self) -> None:
        self._move_cursor(0)

    def action_cursor_last(self) -> None:
        self._move_cursor(len(self._order) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self._move_cursor(self.scroll_offset.y + offset.y - 1)
