"""The log viewer pane: the engine's recent log lines, filtered, searchable, following.

It reads a ring buffer (``entries(since_seq, level, channel, search, correlation_id)``)
on the console's refresh timer and writes only the new lines in one batch; the RichLog is
bounded, so a chatty engine cannot grow the console's memory. Each line shows the
structured fields its message does not already say; ``k``/``j`` select a line, whose
fields are spelled out below the log, and ``o`` shows only that line's order (its
correlation id: intent, verdict, sent, ack, fills, final state).
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input, RichLog, Static

from engine.clock import IST, ns_to_datetime
from widgets.formatting import Palette

LEVELS: tuple[str | None, ...] = (None, "INFO", "WARNING", "ERROR")
CHANNELS: tuple[str | None, ...] = (None, "application", "trading", "risk", "audit", "errors")
MAX_LINES = 2_000
_LEVEL_STYLE = {"WARNING": "$warning", "ERROR": "bold $error", "CRITICAL": "bold $error"}


class LogSource(Protocol):
    def entries(
        self,
        since_seq: int = 0,
        level: str | None = None,
        channel: str | None = None,
        search: str | None = None,
        correlation_id: str | None = None,
    ) -> list[Any]: ...


class LogLines(RichLog):
    """The log's lines in a box sized by the pane (``height: 1fr``), never by its lines.

    ``RichLog`` counts its virtual size as a layout change, so every poll that wrote lines
    laid the whole screen out again: with the pane open at 1,000 ticks/s, every frame, at
    about twice the CPU. New lines here change the scroll range and repaint the log; the
    screen is laid out only when a scrollbar comes or goes.
    """

    DEFAULT_CSS = "LogLines { height: 1fr; }"
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)  # the scrollbars' extent; the scroll kept in range


class LogViewer(Vertical):
    """Level and channel filters, a search box and a follow switch over a bounded log."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "cycle_level", "Level", id="logs.level"),
        Binding("c", "cycle_channel", "Channel", id="logs.channel"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        Binding("k", "select_older", "Older line", id="logs.older"),
        Binding("j", "select_newer", "Newer line", id="logs.newer"),
        Binding("o", "toggle_order", "This order", id="logs.order"),
    ]

    def __init__(self, source: object | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source: LogSource | None = source  # type: ignore[assignment]  # duck-typed ring
        self.level: str | None = "INFO"
        self.channel: str | None = None
        self.search: str = ""
        self.follow = True
        self.correlation_id: str | None = None  # show one order's story only
        self.last_seq = 0
        self.palette = Palette()
        self.shown: deque[Any] = deque(maxlen=MAX_LINES)  # the entries in the RichLog
        self.selected: int | None = None  # index into ``shown``; None: nothing selected

    def compose(self) -> ComposeResult:
        yield Static("", id="log-status")
        yield Input(placeholder="search logs (Enter applies, Escape leaves)", id="log-search")
        yield LogLines(max_lines=MAX_LINES, wrap=False, markup=False, id="log-lines")
        yield Static("", id="log-detail")

    def on_mount(self) -> None:
        self.query_one("#log-search", Input).display = False
        self.query_one("#log-detail", Static).display = False
        self._show_status()

    @property
    def lines(self) -> RichLog:
        return self.query_one("#log-lines", RichLog)

    def poll(self, palette: Palette) -> int:
        """Append lines newer than the last one shown; returns how many were written."""
        self.palette = palette
        if self.source is None:
            return 0
        entries = self.source.entries(
            since_seq=self.last_seq,
            level=self.level,
            channel=self.channel,
            search=self.search or None,
            correlation_id=self.correlation_id,
        )
        if not entries:
            return 0
        self.last_seq = entries[-1].seq
        log = self.lines
        shown = self.shown
        for entry in entries[-MAX_LINES:]:
            if self.selected is not None and len(shown) == MAX_LINES:
                self.selected = max(0, self.selected - 1)  # the oldest line drops out
            shown.append(entry)
            log.write(self._line(entry), scroll_end=False)
        if self.follow:  # once for the batch, in this frame (a write's own scroll waits a frame)
            log.scroll_end(animate=False, immediate=True, x_axis=False)
        return len(entries)

    def _line(self, entry: Any) -> Text:
        stamp = ns_to_datetime(entry.ts_ns, IST).strftime("%H:%M:%S")
        text = Text(no_wrap=True)
        text.append(f"{stamp} ", style="dim")
        text.append(
            f"{entry.level:<8}", style=self.palette.style(_LEVEL_STYLE.get(entry.level, ""))
        )
        text.append(f"{entry.channel:<12}", style="dim")
        text.append(entry.message)
        extra = [f"{key}={value}" for key, value in _fields(entry) if value not in entry.message]
        if extra:
            text.append("  " + " ".join(extra), style="dim")
        return text

    def selected_entry(self) -> Any | None:
        """The line the operator selected with ``k``/``j``, if any."""
        if self.selected is None or not self.shown:
            return None
        return self.shown[min(self.selected, len(self.shown) - 1)]

    def _show_detail(self) -> None:
        """Spell out the selected line: time, level, message, every field, correlation id."""
        detail = self.query_one("#log-detail", Static)
        entry = self.selected_entry()
        detail.display = entry is not None
        if entry is None:
            return
        stamp = ns_to_datetime(entry.ts_ns, IST).strftime("%H:%M:%S")
        fields = " · ".join(f"{key} {value}" for key, value in _fields(entry))
        cid = f" · correlation {entry.correlation_id}" if entry.correlation_id else ""
        line = f"▶ {stamp} {entry.level} {entry.message}\n  {fields or 'no fields'}{cid}"
        detail.update(Text(line))

    def _reload(self) -> None:
        """Filters changed: show the buffer again through the new filters."""
        self.lines.clear()
        self.shown.clear()
        self.selected = None
        self._show_detail()
        self.last_seq = 0
        self._show_status()
        self.poll(self.palette)

    def _show_status(self) -> None:
        level = f"≥{self.level}" if self.level else "all levels"
        channel = self.channel or "all channels"
        search = f"search '{self.search}'" if self.search else "no search"
        follow = "following" if self.follow else "PAUSED (f follows)"
        source = "" if self.source is not None else " · no log source"
        order = f" · order {self.correlation_id} (o shows all)" if self.correlation_id else ""
        status = f"Logs · {level} · {channel} · {search}{order} · {follow}{source}"
        self.query_one("#log-status", Static).update(Text(status, no_wrap=True))

    def action_cycle_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        self._reload()

    def action_cycle_channel(self) -> None:
        self.channel = CHANNELS[(CHANNELS.index(self.channel) + 1) % len(CHANNELS)]
        self._reload()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.lines.auto_scroll = self.follow
        if self.follow:
            self.lines.scroll_end(animate=False)
        self._show_status()

    def action_select_older(self) -> None:
        if not self.shown:
            return
        newest = len(self.shown) - 1
        self.selected = newest if self.selected is None else max(0, self.selected - 1)
        self._show_detail()

    def action_select_newer(self) -> None:
        if self.selected is None:
            return
        self.selected = min(len(self.shown) - 1, self.selected + 1)
        self._show_detail()

    def action_toggle_order(self) -> None:
        """Show only the selected line's order (its correlation id); again: show all."""
        if self.correlation_id is not None:
            self.correlation_id = None
        else:
            entry = self.selected_entry() or (self.shown[-1] if self.shown else None)
            if entry is None or not entry.correlation_id:
                self.app.notify("Select a line of an order first (k / j)")
                return
            self.correlation_id = entry.correlation_id
        self._reload()

    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#log-search")
    def apply_search(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        self._leave_search()
        self._reload()

    def key_escape(self) -> None:
        if self.query_one("#log-search", Input).display:
            self._leave_search()

    def _leave_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = False
        self.lines.focus()


def _fields(entry: Any) -> tuple[tuple[str, str], ...]:
    return getattr(entry, "fields", ())
