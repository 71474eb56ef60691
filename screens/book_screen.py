"""``BookScreen``: a full screen over the dashboard showing one book of the day.

It keeps itself current from the read model on its own timer, redrawing only when the
sections its table shows have changed. The kill switch and quit stay priority keys of
the App, so they work here as on the dashboard. Resume and Zerodha login work here too
but are not in the footer: with the book's own keys and a pinned alarm's ``a Ack``, an
80-column footer ran under the palette key and cut ``q Quit``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from engine.read_model import ReadModel
from screens.actions import unlisted
from widgets.footer import ConsoleFooter
from widgets.formatting import Palette, ist_date
from widgets.keyed_table import KeyedTable
from widgets.panel import Frame

REDRAW_S = 0.2


class BookScreen(Screen[None]):
    """One fitted table of the day under a title line; Escape goes back to the dashboard."""

    DEFAULT_CSS = """
    BookScreen #book-title { height: 1; padding: 0 1; text-style: bold; }
    BookScreen #book-box { height: 1fr; border: round $primary; }
    BookScreen #book-empty { color: $text-muted; padding: 0 1; }
    BookScreen #book-note { height: auto; max-height: 3; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="book.close"),
        *unlisted("resume", "login"),
    ]
    TITLE_TEXT = ""
    EMPTY_TEXT = ""

    def __init__(self, model: ReadModel, now_ns: Callable[[], int], palette: Palette) -> None:
        super().__init__()
        self.model = model
        self.now_ns = now_ns
        self.palette = palette
        self._seen: tuple[object, ...] | None = None

    def make_table(self) -> KeyedTable:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, id="book-title")
        with Vertical(id="book-box"):
            yield self.make_table()
            yield Static(self.EMPTY_TEXT, id="book-empty")
        yield Static("", id="book-note")
        yield ConsoleFooter()

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#book", KeyedTable)

    def on_mount(self) -> None:
        self.redraw(force=True)
        self.table.focus()
        self.watch(self.table, "cursor_row", self._show_note, init=False)
        self.set_interval(REDRAW_S, self.redraw, name="book-redraw")

    @property
    def today(self) -> date | None:
        """The run's IST day (the simulated market's, in SIM): the day the book shows."""
        return ist_date(self.model.run_now_ns(self.now_ns()))

    def redraw(self, force: bool = False) -> None:
        """Draw the table when the read model's sections it shows moved on, or the run's
        day did (yesterday's rows leave a book left open over the session change)."""
        table = self.table
        frame = Frame(self.model, self.now_ns(), self.palette)
        # The book widgets declare SECTIONS and show(frame); the table's type does not.
        sections = tuple(self.model.sections[s] for s in table.SECTIONS)  # type: ignore[attr-defined]
        versions = (*sections, frame.today)
        if not force and versions == self._seen:
            return
        self._seen = versions
        table.show(frame)  # type: ignore[attr-defined]  # as above
        self.query_one("#book-title", Static).update(self.title_line())
        self.query_one("#book-empty", Static).display = table.row_count == 0
        self._show_note()

    def _show_note(self) -> None:
        note = self.note_line()
        widget = self.query_one("#book-note", Static)
        widget.display = bool(note)
        widget.update(note)

    def title_line(self) -> str:
        return self.TITLE_TEXT

    def note_line(self) -> str:
        """A line under the table about the selected row, whole at any width ('' for none)."""
        return ""

    def action_close(self) -> None:
        self.dismiss(None)
