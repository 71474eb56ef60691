"""``KeyedTable``: keyed rows drawn line by line from cached strips, brought up to date by diff.

A DataTable renders every visible cell through Rich again whenever any cell changes (its
caches are keyed by one table-wide update counter), and adding or removing a row re-indexes
the whole table: with prices moving under the 10 Hz refresh that was ~20 ms a frame per
table, on the loop the engine and the kill key share. Here a row becomes one ``Strip``
when its cells change, and a frame only crops cached strips. The cursor stays on its row's
key when live updates add, remove or reorder rows above it (a key pressed on the selection
acts on the row the trader chose, not on whatever slid under the cursor), and the scroll
position survives every refresh. A table nobody has focused or moved keeps its first row
under the cursor and in view: the newest order stays on screen.

A fitted table (``fit=True``) sizes each column to its widest cell, so money is never
cut: when the panel is too narrow, text columns that allow it (``min_width``) give up
cells first, then the columns marked ``drop`` go, least important first.
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
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Row = tuple[object, ...]
CELL_PADDING = 1  # a space either side of every cell, as DataTable draws them


class Column(NamedTuple):
    """A column: ``width`` is its fixed width, or in a fitted table the least it gets.

    ``min_width`` (fitted tables): text that may be cut down to this many cells when the
    panel is narrow; None means never cut (money, quantities, statuses, times).
    ``drop``: 0 always shown; 1, 2, … dropped in that order when cutting is not enough.
    """

    key: str
    label: str
    width: int
    min_width: int | None = None
    drop: int = 0


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


def _length(cell: Cell | Text) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell.plain)


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

    def __init__(
        self,
        columns: Sequence[tuple[str, str, int] | Column],
        *,
        fit: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]  # ScrollView's keywords, passed on
        self._column_spec = [Column(*column) for column in columns]
        self._column_index = {column.key: i for i, column in enumerate(self._column_spec)}
        self._fit = fit
        # Fitted tables separate columns by one space (every cell counts at 120 columns).
        self._pads = (CELL_PADDING, 0) if fit else (CELL_PADDING, CELL_PADDING)
        self._widths: list[int | None] = [column.width for column in self._column_spec]
        self._total_width = self._width_of(self._widths)
        self._lengths: dict[str, tuple[int, ...]] = {}  # fitted: each row's cell lengths
        self._given: dict[str, Row] = {}  # what sync was handed, for cell_text
        self._cells: dict[str, tuple[Cell | Text, ...]] = {}
        self._strips: dict[str, tuple[Style, Strip]] = {}  # row key → (base style, strip)
        self._header: tuple[Style, Strip] | None = None
        self._base: Style | None = None  # rich_style walks every ancestor: once per style change
        self._order: list[str] = []
        # The trader put the cursor on a row (keys or a click): it then follows that row's
        # key. Until then, and while unfocused, it stays on the first row, so a newest-first
        # table keeps showing its newest rows instead of scrolling after an old one.
        self._chosen = False
        self.cell_updates = 0  # cells that changed, across syncs (tests and benchmarks)

    def on_mount(self) -> None:
        self.virtual_size = Size(self._total_width, len(self._order) + 1)

    def on_resize(self, event: events.Resize) -> None:
        if self._fit and self._refit():
            self.virtual_size = Size(self._total_width, len(self._order) + 1)
            self.refresh()

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns drawn now (a fitted table may drop some)."""
        return [c.key for c, w in zip(self._column_spec, self._widths, strict=True) if w]

    def _width_of(self, widths: Sequence[int | None]) -> int:
        pad = sum(self._pads)
        return sum(w + pad for w in widths if w)

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
        # rows added, removed or reordered: what is wanted now (None: the same rows)
        wanted = set(keys) if keys != self._order else None
        changed = wanted is not None
        if wanted is not None:
            for key in [k for k in self._cells if k not in wanted]:
                del self._cells[key]
                del self._given[key]
                self._strips.pop(key, None)
                self._lengths.pop(key, None)
        redrawn: set[str] = set()  # rows whose cells changed
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
                if self._fit:
                    self._lengths[key] = tuple(_length(cell) for cell in cells)
                redrawn.add(key)
        if not (changed or redrawn):
            return
        followed = self.cursor_key
        self._order = keys
        refitted = self._fit and self._refit()
        if wanted is not None and followed in wanted and (self._chosen or self.has_focus):
            self.cursor_row = keys.index(followed)
        elif self.cursor_row >= len(keys):
            self.cursor_row = max(0, len(keys) - 1)
        size = Size(self._total_width, len(keys) + 1)
        if size != self.virtual_size:
            self._resize_rows(size)
        elif not (changed or refitted):
            self._refresh_rows(redrawn)
            return
        self.refresh()

    def _refresh_rows(self, keys: set[str]) -> None:
        """Repaint only the lines of these rows that are in view (same rows, same widths).

        A price that moves repaints its own line: the other lines keep their rendered
        strips, and only that line is sent to the terminal again (over SSH, the bytes).
        """
        top, page = self.scroll_offset.y, self._page
        width = self.size.width
        lines = [
            Region(0, index - top + 1, width, 1)  # the header is line 0
            for index, key in enumerate(self._order[top : top + page], start=top)
            if key in keys
        ]
        if lines:
            self.refresh(*lines)

    def _resize_rows(self, size: Size) -> None:
        """Give the rows' new extent; lay the screen out again only when the box can change.

        A row added to (or dropped from) a table that scrolls in its panel before and after
        moves only its scrollbar; a layout would re-flow and repaint the whole screen and
        send every cell to the terminal again (~10 ms and ~12 KB a new order at 1,000
        ticks/s). Otherwise (the table grows or shrinks, a scrollbar comes or goes) the
        screen is laid out as Textual does for any auto-height widget.
        """
        view = self.scrollable_content_region.size
        old = self.virtual_size
        scrolls_still = view.height > 0 and min(old.height, size.height) > view.height
        if scrolls_still and max(old.width, size.width) <= view.width:
            self.set_reactive(KeyedTable.virtual_size, size)
            self._scroll_update(size)  # the scrollbar's extent; the scroll kept in range
        else:
            self.virtual_size = size

    # -- fitting -------------------------------------------------------------------------
    def _refit(self) -> bool:
        """Size the columns to their cells and the panel; True when any width changed."""
        widths = self._layout(self._natural(), self._available_width())
        if widths == self._widths:
            return False
        self._widths = widths
        self._total_width = self._width_of(widths)
        self._strips.clear()
        self._header = None
        return True

    def _available_width(self) -> int:
        """The panel's width, less the vertical scrollbar when the rows will need one."""
        size = self.size
        scrolls = len(self._order) + 1 > size.height
        return size.width - (self.styles.scrollbar_size_vertical if scrolls else 0)

    def _natural(self) -> list[int]:
        """Each column's width with no cell cut: the widest of its label, base and cells."""
        natural = [max(c.width, cell_len(c.label)) for c in self._column_spec]
        for lengths in self._lengths.values():
            for index, length in enumerate(lengths):
                if length > natural[index]:
                    natural[index] = length
        return natural

    def _layout(self, natural: list[int], available: int) -> list[int | None]:
        """Natural widths; when too wide, cut the text columns, then drop the least wanted."""
        if available <= 0:  # not laid out yet: the first resize fits it
            return list(natural)
        droppable = sorted((c.drop, i) for i, c in enumerate(self._column_spec) if c.drop > 0)
        for count in range(len(droppable) + 1):
            dropped = {i for _, i in droppable[:count]}
            widths: list[int | None] = [None if i in dropped else w for i, w in enumerate(natural)]
            if self._squeeze(widths, available):
                return widths
        return widths

    def _squeeze(self, widths: list[int | None], available: int) -> bool:
        """Cut text columns (the widest first) until the row fits; False if it cannot."""
        excess = self._width_of(widths) - available
        floors = [
            None if w is None or c.min_width is None else min(w, c.min_width)
            for c, w in zip(self._column_spec, widths, strict=True)
        ]
        while excess > 0:
            room = [
                (w - f, i)
                for i, (w, f) in enumerate(zip(widths, floors, strict=True))
                if f is not None and w is not None and w > f
            ]
            if not room:
                return False
            _, index = max(room)
            widths[index] -= 1  # type: ignore[operator]  # room only holds non-None widths
            excess -= 1
        return True

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
            cells = [Cell(column.label, Style.null(), "left") for column in self._column_spec]
            self._header = (base, self._strip(cells, self._header_style(base)))
        return self._header[1]

    def _row_strip(self, key: str, base: Style) -> Strip:
        cached = self._strips.get(key)
        if cached is None or cached[0] != base:
            cached = (base, self._strip(self._cells[key], base))
            self._strips[key] = cached
        return cached[1]

    def _strip(self, cells: Sequence[Cell | Text], base: Style) -> Strip:
        before, after = (Segment(" " * n, base) for n in self._pads)
        segments: list[Segment] = []
        for cell, width in zip(cells, self._widths, strict=False):
            if not width:
                continue  # a dropped column
            segments.append(before)
            if isinstance(cell, Text):
                text = cell.copy()
                text.truncate(width, overflow="ellipsis", pad=True)
                text.align(cell.justify or "left", width)  # type: ignore[arg-type]  # rich literal
                segments.extend(Segment.apply_style(text.render(self.app.console), base))
            else:
                style = base + cell.style if cell.style else base
                segments.append(Segment(_fit(cell.plain, width, cell.justify), style))
            if after.text:
                segments.append(after)
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
        self._chosen = True
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
