"""Health: every processor's status, lag and dead letters, plus feed and token freshness."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from engine.clock import NS_PER_S
from engine.events.types import ComponentStatus
from engine.read_model.model import FEED, HEALTH, POSITIONS, SESSION
from widgets.formatting import COMPONENT_STYLE, duration
from widgets.panel import Frame


class HealthPanel(Static):
    """One line per component; statuses in words so the panel reads without colour."""

    SECTIONS = (HEALTH, FEED, POSITIONS, SESSION)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: Text | None = None
        self._lines = -1

    def show(self, frame: Frame) -> None:
        palette = frame.palette
        model = frame.model
        text = Text(no_wrap=True, overflow="ellipsis")
        for name in sorted(model.components):
            component = model.components[name]
            status = component.status
            text.append(f"{name:<16.16} ")
            text.append(f"{status.value:<8}", style=palette.style(COMPONENT_STYLE[status]))
            text.append(f" lag {component.lag:>4,d}", style="dim" if not component.lag else "")
            dlq_style = palette.style("$error") if component.dlq_count else "dim"
            text.append(f" dlq {component.dlq_count:,d}", style=dlq_style)
            if component.detail and status is not ComponentStatus.RUNNING:
                text.append(f"  {component.detail}", style="dim")
            text.append("\n")
        text.append(f"{'feed':<17}")
        age = model.feed_age_s()  # since a tick *arrived*: event times may be simulated
        if age is None:
            text.append("no ticks yet", style=palette.style("$warning"))
        else:
            stale = model.clock.is_stale(age)
            word = "STALE" if stale else "live"
            text.append(f"{word:<8}", style=palette.style("$error" if stale else "$success"))
            text.append(f" tick {duration(age)} ago", style="dim")
        text.append(f"\n{'token':<17}")
        expiry = model.session.expiry_ts
        if model.session.user is None or expiry is None:
            text.append("none", style=palette.style("$warning"))
        elif expiry <= frame.now_ns:
            text.append("EXPIRED", style=palette.style("bold $error"))
        else:
            text.append("valid   ", style=palette.style("$success"))
            text.append(f" {duration((expiry - frame.now_ns) / NS_PER_S)} left", style="dim")
        if text == self._shown:
            return  # ticks move the feed age, but it reads the same within a second
        lines = text.plain.count("\n")
        self.update(text, layout=lines != self._lines)  # no wrap: height = line count
        self._shown, self._lines = text, lines
