"""The log viewer pane: the engine's recent log lines, filtered, searchable, following.

It reads a ring buffer (``entries(since_seq, level, channel, search)``) on the console's
refresh timer and writes only the new lines in one batch; the RichLog is bounded, so a
chatty engine cannot grow the console's memory.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
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
    ) -> list[Any]: ...


class LogViewer(Vertical):
    """Level and channel filters, a search box and a follow switch over a bounded log."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "cycle_level", "Level", id="logs.level"),
        Binding("c", "cycle_channel", "Channel", id="logs.channel"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
    ]

    def __init__(self, source: object | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source: LogSource | None = source  # type: ignore[assignment]
        self.level: str | None = "INFO"
        self.channel: str | None = None
        self.search: str = ""
        self.follow = True
        self.last_seq = 0
        self.palette = Palette()

    def compose(self) -> ComposeResult:
        yield Static("", id="log-status")
        yield Input(placeholder="search logs (Enter applies, Escape leaves)", id="log-search")
        yield RichLog(max_lines=MAX_LINES, wrap=False, markup=False, id="log-lines")

    def on_mount(self) -> None:
        self.query_one("#log-search", Input).display = False
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
        )
        if not entries:
            return 0
        self.last_seq = entries[-1].seq
        log = self.lines
        for entry in entries[-MAX_LINES:]:
            log.write(self._line(entry), scroll_end=self.follow)
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
        return text

    def _reload(self) -> None:
        """Filters changed: show the buffer again through the new filters."""
        self.lines.clear()
        self.last_seq = 0
        self._show_status()
        self.poll(self.palette)

    def _show_status(self) -> None:
        level = f"≥{self.level}" if self.level else "all levels"
        channel = self.channel or "all channels"
        search = f"search '{self.search}'" if self.search else "no search"
        follow = "following" if self.follow else "PAUSED (f follows)"
        source = "" if self.source is not None else " · no log source"
        status = f"Logs · {level} · {channel} · {search} · {follow}{source}"
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
