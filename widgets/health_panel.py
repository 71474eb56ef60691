"""Health: every processor's status, lag and dead letters (SILENT when its reports have
stopped), plus feed and token freshness."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from engine.clock import NS_PER_S
from engine.events.types import Broker, ComponentStatus
from engine.read_model.model import FEED, HEALTH, POSITIONS, SESSION
from widgets.formatting import COMPONENT_STYLE, duration
from widgets.panel import Frame

NAME_MIN = 16  # the width names had before they were fitted
# A component is SILENT when no report of it has arrived for this many times the feed's
# silence limit (ALPHAPANDA_FEED__STALE_AFTER_S; reports come every second): an attached
# console still holds a dead engine's, or a stopped broker's, last "running".
SILENT_AFTER_STALE = 2
FIGURES = 8 + 9 + 6  # status, " lag 9999", " dlq 99": what a name gives way to
_BROKER_SUFFIXES = tuple(f".{broker.value}" for broker in Broker)


def fit_names(names: list[str], width: int) -> dict[str, str]:
    """Each component's name as the panel shows it in ``width`` cells: whole when there is
    room beside the figures; else without its broker suffix (the header names the
    broker); only then cut, with an ellipsis."""
    room = max(NAME_MIN, width - FIGURES - 1) if width > 0 else 10**6
    if all(len(name) <= room for name in names):
        return {name: name for name in names}
    shown = {}
    for name in names:
        short = next((name.removesuffix(s) for s in _BROKER_SUFFIXES if name.endswith(s)), name)
        shown[name] = short if len(short) <= room else short[: room - 1] + "…"
    return shown


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
        names = sorted(model.components)
        shown = fit_names(names, self.content_size.width)
        pad = max([NAME_MIN, *(len(name) for name in shown.values())])
        silent_after = SILENT_AFTER_STALE * model.clock.stale_after_s
        for name in names:
            component = model.components[name]
            status = component.status
            text.append(f"{shown[name]:<{pad}} ")
            age = model.health_age_s(name)
            if age is not None and age > silent_after:
                text.append(f"{'SILENT':<8}", style=palette.style("$error"))
                text.append(f" no report {duration(age)}\n", style="dim")
                continue
            text.append(f"{status.value:<8}", style=palette.style(COMPONENT_STYLE[status]))
            text.append(f" lag {component.lag:>4,d}", style="dim" if not component.lag else "")
            dlq_style = palette.style("$error") if component.dlq_count else "dim"
            text.append(f" dlq {component.dlq_count:,d}", style=dlq_style)
            if component.detail and status is not ComponentStatus.RUNNING:
                text.append(f"  {component.detail}", style="dim")
            text.append("\n")
        text.append(f"{'feed':<{pad + 1}}")
        age = model.feed_age_s()  # since a tick *arrived*: event times may be simulated
        if age is None:
            text.append("no ticks yet", style=palette.style("$warning"))
        else:
            stale = model.clock.is_stale(age)
            word = "STALE" if stale else "live"
            text.append(f"{word:<8}", style=palette.style("$error" if stale else "$success"))
            text.append(f" tick {duration(age)} ago", style="dim")
        text.append(f"\n{'token':<{pad + 1}}")
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
