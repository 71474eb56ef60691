"""Risk alerts, newest first: time, severity in words and colour, the rule and its reason."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.read_model.model import ALERTS
from widgets.formatting import SEVERITY_STYLE, ist_time
from widgets.panel import Frame

MAX_SHOWN = 50


class AlertsFeed(Static):
    """The newest ``MAX_SHOWN`` alerts; the model keeps a bounded history."""

    SECTIONS = (ALERTS,)

    def show(self, frame: Frame) -> None:
        palette = frame.palette
        alerts = list(frame.model.alerts)[:MAX_SHOWN]
        if not alerts:
            self.update(Text("No alerts", style="dim"))
            return
        text = Text(no_wrap=False, overflow="fold")
        for index, alert in enumerate(alerts):
            if index:
                text.append("\n")
            text.append(f"{ist_time(alert.alert_ts)} ", style="dim")
            text.append(
                f"{alert.severity.value:<8}", style=palette.style(SEVERITY_STYLE[alert.severity])
            )
            scope = " ".join(part for part in (alert.strategy, alert.symbol) if part)
            text.append(f" {alert.rule}")
            if scope:
                text.append(f" [{scope}]", style="dim")
            text.append(f": {alert.message}")
        self.update(text)
