"""The dashboard: every panel on one screen, redrawn from the read model by diff.

The App's single refresh timer calls ``draw``; a panel is redrawn only when a section
of the read model it shows has changed since its last draw (the header and health
panel also once per displayed second, for the clock and staleness ages).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget

from engine.clock import NS_PER_S
from engine.read_model import ReadModel
from widgets.alerts_feed import AlertsFeed
from widgets.footer import ConsoleFooter
from widgets.formatting import Palette
from widgets.funds_line import FundsLine
from widgets.health_panel import HealthPanel
from widgets.log_viewer import LogViewer
from widgets.orders_table import OrdersTable
from widgets.panel import Frame
from widgets.pnl_line import PnlLine
from widgets.positions_table import PositionsTable
from widgets.status_header import StatusHeader
from widgets.strategies_panel import StrategiesPanel

_CLOCKED = ("header", "health")  # panels whose text depends on the time, not only on data
_DATED = ("orders", "alerts")  # rows show their date when not from the run's day


def _box(
    title: str,
    child: Widget,
    box_id: str,
    *,
    scrolls: bool = False,
    above: Widget | None = None,
) -> Widget:
    """A titled panel. ``scrolls``: the box itself takes focus and scrolls, for text panels;
    ``above``: a line drawn over ``child`` inside the same box.

    Tab then reaches health like the tables and the alerts (which scroll themselves), which
    on a narrow terminal is what scrolls them into view.
    """
    children = (child,) if above is None else (above, child)
    box = (VerticalScroll if scrolls else Vertical)(*children, id=box_id, classes="panel")
    box.border_title = title
    return box


class DashboardScreen(Screen[None]):
    """Positions, orders, strategies, alerts, health, P&L and the optional log pane."""

    AUTO_FOCUS = ""  # the strategies panel is focused on resume, without scrolling to it
    PANEL_IDS: ClassVar[tuple[str, ...]] = (
        "header",
        "pnl",
        "funds",
        "positions",
        "orders",
        "strategies",
        "alerts",
        "health",
    )

    def __init__(self, mode: str, broker: str, log_source: object | None) -> None:
        super().__init__()
        self.mode = mode
        self.broker = broker
        self.log_source = log_source
        self._seen: dict[str, tuple[int, ...]] = {}
        self._second = -1
        self._today: object = None
        self._panels: list[tuple[str, Widget]] = []
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.mode, self.broker, id="header")
        yield PnlLine(id="pnl")
        with Container(id="main"):
            with Vertical(id="left"):
                # The funds line tops the positions: on a narrow screen it scrolls with them
                # and costs the fixed rows nothing.
                yield _box(
                    "Positions (e/E exit · p stops)",
                    PositionsTable(id="positions"),
                    "positions-box",
                    above=FundsLine(id="funds"),
                )
                yield _box("Orders", OrdersTable(id="orders"), "orders-box")
            with Vertical(id="right"):
                yield _box("Strategies (h halts)", StrategiesPanel(id="strategies"), "strat-box")
                yield _box("Risk alerts", AlertsFeed(id="alerts"), "alerts-box")  # scrolls itself
                yield _box("Health", HealthPanel(id="health"), "health-box", scrolls=True)
        yield LogViewer(self.log_source, id="logs")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self._log_pane = self.query_one("#logs", LogViewer)
        self._log_pane.display = False
        self._panels = [(pid, self.query_one(f"#{pid}")) for pid in self.PANEL_IDS]
        # Focusing the strategies scrolls a narrow layout; the trader should see the top.
        self.call_after_refresh(self.query_one("#main").scroll_home, animate=False)

    def on_screen_resume(self) -> None:
        """The strategies panel takes the keys (h halts the selected one). Textual's auto
        focus scrolled a narrow layout to it, and at 80x24, when it came after the first
        layout (under load), the positions' title, funds and column headings were off the
        top: focused here without scrolling."""
        if self.focused is None:
            self.set_focus(self.query_one("#strategies"), scroll_visible=False)

    @property
    def selected_strategy(self) -> str | None:
        return self.query_one("#strategies", StrategiesPanel).selected_strategy

    @property
    def logs(self) -> LogViewer:
        pane = getattr(self, "_log_pane", None)
        return pane if pane is not None else self.query_one("#logs", LogViewer)

    def toggle_logs(self) -> bool:
        """Show or hide the log pane; returns True when it is now shown."""
        logs = self.logs
        logs.display = not logs.display
        if logs.display:
            logs.lines.focus()
        elif self.focused is None or logs in self.focused.ancestors_with_self:
            self.query_one("#strategies").focus(scroll_visible=False)
        return bool(logs.display)

    def draw(self, model: ReadModel, now_ns: int, palette: Palette, force: bool = False) -> bool:
        """Redraw panels whose sections changed; True when anything was redrawn."""
        if not self._panels:  # the refresh timer can fire before on_mount has run
            return False
        second = now_ns // NS_PER_S
        tick = second != self._second
        self._second = second
        frame = Frame(model, now_ns, palette)
        new_day = frame.today != self._today
        self._today = frame.today
        drawn = False
        for panel_id, panel in self._panels:
            # Every panel widget declares SECTIONS and show(frame); Widget does not.
            versions = tuple(model.sections[s] for s in panel.SECTIONS)  # type: ignore[attr-defined]
            if (
                force
                or versions != self._seen.get(panel_id)
                or (tick and panel_id in _CLOCKED)
                or (new_day and panel_id in _DATED)
            ):
                self._seen[panel_id] = versions
                panel.show(frame)  # type: ignore[attr-defined]  # a panel widget, as above
                drawn = True
        logs = self.logs
        if logs.display:
            logs.poll(palette)
        if drawn:
            self.redraws += 1
        return drawn

    def draw_section(self, section: str, model: ReadModel, now_ns: int, palette: Palette) -> None:
        """Redraw at once the panels that show ``section`` (the kill switch: the state)."""
        frame = Frame(model, now_ns, palette)
        for panel_id, panel in self._panels:
            sections = panel.SECTIONS  # type: ignore[attr-defined]  # a panel widget, as above
            if section in sections:
                self._seen[panel_id] = tuple(model.sections[s] for s in sections)
                panel.show(frame)  # type: ignore[attr-defined]  # a panel widget, as above
