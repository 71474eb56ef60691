"""Risk alerts, newest first: time, severity in words and colour, the rule and its reason.

Drawn line by line: each alert is wrapped to the panel's width once, when it arrives (or
the width changes), and a frame only crops cached lines. A halted engine refusing every
signal raises an alert per signal; rebuilding and re-wrapping the whole list on each
frame of such a flood cost ~15 ms a frame on the loop the kill key shares.
"""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.events.payloads import RiskAlert
from engine.read_model.model import ALERTS
from widgets.formatting import SEVERITY_STYLE, Palette, run_time
from widgets.panel import Frame

MAX_SHOWN = 50


def alert_text(alert: RiskAlert, palette: Palette, today: date | None = None) -> Text:
    """One alert as the trader reads it (wrapped to the panel when drawn); its time is in
    the run's clock, with the date when it is from another day than ``today``."""
    text = Text(no_wrap=False, overflow="fold")
    text.append(f"{run_time(alert.alert_ts, today)} ", style="dim")
    text.append(f"{alert.severity.value:<8}", style=palette.style(SEVERITY_STYLE[alert.severity]))
    scope = " ".join(part for part in (alert.strategy, alert.symbol) if part)
    text.append(f" {alert.rule}")
    if scope:
        text.append(f" [{scope}]", style="dim")
    text.append(f": {alert.message}")
    return text


class AlertsFeed(ScrollView, can_focus=True):
    """The newest ``MAX_SHOWN`` alerts; the model keeps a bounded history. Arrows scroll."""

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
        self._alerts: list[RiskAlert] = []
        self._newest: RiskAlert | None = None
        self._palette = Palette()
        self._today: date | None = None
        self._wrapped: dict[int, tuple[RiskAlert, list[Strip]]] = {}  # id → (alert, lines)
        self._lines: list[Strip] = []
        self._width = 0
        self._base: Style | None = None

    @property
    def plain(self) -> str:
        """The text of every shown line (tests read the panel through it)."""
        return "\n".join(line.text.rstrip() for line in self._lines)

    def show(self, frame: Frame) -> None:
        alerts = frame.model.alerts
        newest = alerts[0] if alerts else None
        same_look = frame.palette is self._palette and frame.today == self._today
        if newest is self._newest and same_look and self._lines:
            return  # alerts only ever arrive at the front: same newest, same list
        self._newest = newest
        if not same_look:  # a new theme, or a new day: every time may now need its date
            self._palette, self._today = frame.palette, frame.today
            self._wrapped.clear()
        self._alerts = list(islice(alerts, MAX_SHOWN))
        self._rebuild()

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
        wrapped: dict[int, tuple[RiskAlert, list[Strip]]] = {}
        for alert in self._alerts:
            entry = cache.get(id(alert))
            if entry is None or entry[0] is not alert:
                text = alert_text(alert, self._palette, self._today)
                entry = (alert, self._wrap(text, width, base))
            wrapped[id(alert)] = entry
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
