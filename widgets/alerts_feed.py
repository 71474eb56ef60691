"""Risk alerts: the pinned CRITICAL ones first, then the rest, the most recent first.

Identical alerts are one line with a count and the last time (``engine.read_model.alerts``
says what identical means); a CRITICAL alert stays at the top until acknowledged (``a``),
and the panel's title says how many are pinned.

Drawn line by line: each alert line is wrapped to the panel's width once, when it arrives
or repeats (or the width changes), and a frame only crops cached lines. A halted engine
refusing every signal raises an alert per signal; rebuilding and re-wrapping the whole
list on each frame of such a flood cost ~15 ms a frame on the loop the kill key shares.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.events.payloads import RiskAlert
from engine.read_model.alerts import AlertLine
from engine.read_model.model import ALERTS
from widgets.formatting import SEVERITY_STYLE, Palette, run_time
from widgets.panel import Frame

MAX_SHOWN = 50
TITLE = "Risk alerts"
PIN_MARK = "▲ "


def alert_text(
    alert: RiskAlert, palette: Palette, today: date | None = None, line: AlertLine | None = None
) -> Text:
    """One alert line as the trader reads it (wrapped to the panel when drawn).

    Times are in the run's clock, with the date when from another day than ``today``. A
    collapsed line starts at its first time and ends with ``×37, last 10:42:05``.
    """
    text = Text(no_wrap=False, overflow="fold")
    style = palette.style(SEVERITY_STYLE[alert.severity])
    if line is not None and line.pinned:
        text.append(PIN_MARK, style=style)
    first = line.first_ts if line is not None else alert.alert_ts
    text.append(f"{run_time(first, today)} ", style="dim")
    text.append(f"{alert.severity.value:<8}", style=style)
    scope = " ".join(part for part in (alert.strategy, alert.symbol) if part)
    text.append(f" {alert.rule}")
    if scope:
        text.append(f" [{scope}]", style="dim")
    text.append(f": {alert.message}")
    if line is not None and line.count > 1:
        text.append(f" ×{line.count:,d}, last {run_time(line.last_ts, today)}", style="bold")
    return text


def panel_title(pinned: int) -> str:
    """The box title: how many alerts wait for an acknowledgement, and the key."""
    if not pinned:
        return TITLE
    return f"{TITLE} · {pinned} pinned, a acknowledges"


class AlertsFeed(ScrollView, can_focus=True):
    """The pinned alerts and the newest lines, ``MAX_SHOWN`` in all. Arrows scroll."""

    SECTIONS = (ALERTS,)
    DEFAULT_CSS = """
    AlertsFeed {
        height: 1fr;
        overflow-x: hidden;
        background: transparent;
    }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._alerts: list[AlertLine] = []
        self._version = -1  # the alerts section last drawn
        self._palette = Palette()
        self._today: date | None = None
        self._wrapped: dict[int, tuple[AlertLine, list[Strip]]] = {}  # id → (line, strips)
        self._lines: list[Strip] = []
        self._width = 0
        self._base: Style | None = None

    @property
    def plain(self) -> str:
        """The text of every shown line (tests read the panel through it)."""
        return "\n".join(line.text.rstrip() for line in self._lines)

    def show(self, frame: Frame) -> None:
        model = frame.model
        version = model.sections[ALERTS]
        same_look = frame.palette is self._palette and frame.today == self._today
        if version == self._version and same_look and self._lines:
            return
        self._version = version
        if not same_look:  # a new theme, or a new day: every time may now need its date
            self._palette, self._today = frame.palette, frame.today
            self._wrapped.clear()
        book = model.alert_book
        self._alerts = book.lines(MAX_SHOWN)
        self._retitle(len(book.pinned))
        self._rebuild()

    def _retitle(self, pinned: int) -> None:
        box = self.parent
        title = panel_title(pinned)
        if box is not None and getattr(box, "border_title", None) != title:
            box.border_title = title  # type: ignore[attr-defined]  # parent typed as a DOMNode

    def on_resize(self, event: events.Resize) -> None:
        self._rebuild()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._wrapped.clear()
        self._width = 0  # rebuilt on the next show or resize

    def _base_style(self) -> Style:
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _rebuild(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # not laid out yet: the first resize draws it
        if width != self._width:
            self._width = width
            self._wrapped.clear()
        base = self._base_style()
        cache, lines = self._wrapped, []
        wrapped: dict[int, tuple[AlertLine, list[Strip]]] = {}
        for line in self._alerts:
            entry = cache.get(id(line))
            if entry is None or entry[0] is not line:
                text = alert_text(line.alert, self._palette, self._today, line)
                entry = (line, self._wrap(text, width, base))
            wrapped[id(line)] = entry
            lines.extend(entry[1])
        self._wrapped = wrapped
        if not lines:
            lines = self._wrap(Text("No alerts", style="dim"), width, base)
        self._lines = lines
        size = Size(width, len(lines))
        if size != self.virtual_size:
            self.virtual_size = size
        self.refresh()

    def _wrap(self, text: Text, width: int, base: Style) -> list[Strip]:
        console = self.app.console
        return [
            Strip(Segment.apply_style(line.render(console), base)).extend_cell_length(width, base)
            for line in text.wrap(console, width)
        ]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self._base_style()
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        return self._lines[index].crop_extend(0, width, base)
