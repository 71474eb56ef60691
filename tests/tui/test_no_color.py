"""NO_COLOR over SSH at 80×24: every state reads in words, and no panel covers another.

A monochrome terminal (``NO_COLOR=1``, which Textual honours with a monochrome filter)
drops every hue, so these tests read only the characters on the screen.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from rich.console import Console as RichConsole
from textual.app import App
from textual.geometry import Region
from textual.widget import Widget

from alphapanda_tui.app import make_app
from engine.events.types import TradingMode
from screens.kill_confirm import KillConfirmScreen
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import BusHarness, seed

SSH = (80, 24)
BOXES = ("positions-box", "orders-box", "strat-box", "alerts-box", "health-box")


def screen_text(app: App[object]) -> str:
    """The characters on the terminal right now, dialogs over the dashboard included.

    Rendered the way ``App.export_screenshot`` renders the screen, but as text, not SVG.
    """
    width, height = app.size
    out = RichConsole(width=width, height=height, file=io.StringIO(), record=True)
    out.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return out.export_text()


def screen_lines(console: Console, *words: str) -> list[str]:
    """The screen lines that contain every one of ``words``."""
    return [line for line in screen_text(console.app).splitlines() if all(w in line for w in words)]


def header_line(console: Console) -> str:
    return screen_text(console.app).splitlines()[0]


@pytest.fixture
async def mono(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Console]:
    monkeypatch.setenv("NO_COLOR", "1")  # read once, when the App is built
    harness = BusHarness()
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=SSH) as pilot:
        await eventually(lambda: harness.started, message="engine not started")
        await seed(harness)
        view = Console(app, pilot, harness)
        await view.settle()
        yield view


async def _tab_to(console: Console, box_id: str) -> Widget:
    """Press tab until the panel has focus, as a keyboard-only trader would; return it."""
    box = console.app.dashboard.query_one(f"#{box_id}")
    for _ in range(12):
        if console.app.focused is not None and box in console.app.focused.ancestors_with_self:
            await console.pilot.pause()
            return box
        await console.pilot.press("tab")
    raise AssertionError(f"tab never reached #{box_id}")


async def test_header_reads_paper_active_then_halted(mono: Console) -> None:
    assert mono.app.no_color  # the monochrome filter is on: only words are left
    header = header_line(mono)
    assert "PAPER" in header and "ACTIVE" in header and "HALTED" not in header
    await mono.pilot.press("ctrl+k")
    assert isinstance(mono.app.screen, KillConfirmScreen)
    assert "KILL SWITCH · PAPER" in screen_text(mono.app)
    await mono.pilot.press("enter")  # "Kill" has focus
    await eventually(lambda: "HALTED" in header_line(mono), message="HALTED not on screen")
    assert "ACTIVE" not in header_line(mono)
    assert mono.harness.trading_state.scope_mode() is TradingMode.HALTED


async def test_live_header_reads_live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    harness = BusHarness("live")
    app = make_app(harness, operator="trader@desk")
    async with app.run_test(size=SSH) as pilot:
        await eventually(lambda: harness.started, message="engine not started")
        await seed(harness)
        await Console(app, pilot, harness).settle()
        header = screen_text(app).splitlines()[0]
        assert "LIVE" in header and "ACTIVE" in header and "PAPER" not in header


async def test_strategy_states_read_in_words(mono: Console) -> None:
    assert len(screen_lines(mono, "mean_revert", "ACTIVE")) == 1
    assert len(screen_lines(mono, "momentum", "ACTIVE")) == 1
    await mono.pilot.press("down", "h")  # select momentum, halt it
    await eventually(
        lambda: screen_lines(mono, "momentum", "HALTED"),
        message="momentum HALTED not on screen",
    )
    assert screen_lines(mono, "mean_revert", "ACTIVE")
    assert mono.harness.trading_state.scope_mode("momentum") is TradingMode.HALTED


async def test_alert_severities_read_in_words(mono: Console) -> None:
    await _tab_to(mono, "alerts-box")
    assert screen_lines(mono, "WARNING", "max_position_value")
    await mono.pilot.press("ctrl+k", "enter")
    await eventually(lambda: "HALTED" in header_line(mono), message="HALTED not on screen")
    await mono.settle()
    await _tab_to(mono, "alerts-box")
    await eventually(lambda: screen_lines(mono, "CRITICAL"), message="kill alert not on screen")
    assert screen_lines(mono, "WARNING", "max_position_value")


async def test_health_states_read_in_words(mono: Console) -> None:
    await _tab_to(mono, "health-box")
    assert screen_lines(mono, "execution.paper", "paused", "breaker open")
    assert screen_lines(mono, "risk.paper", "running")
    assert screen_lines(mono, "feed", "live")


def _visible(widget: Widget, clip: Region) -> Region:
    return widget.region.intersection(clip)


def _assert_disjoint(regions: dict[str, Region]) -> None:
    names = list(regions)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            overlap = regions[first].intersection(regions[second])
            assert not overlap.area, f"#{first} overlaps #{second} at {overlap}"


@pytest.mark.parametrize("logs_shown", [False, True], ids=["dashboard", "with-logs"])
async def test_panels_fit_and_do_not_overlap(mono: Console, logs_shown: bool) -> None:
    if logs_shown:
        await mono.pilot.press("l")
        await mono.pilot.pause()
    dashboard = mono.app.dashboard
    assert dashboard.logs.display is logs_shown
    screen = dashboard.region
    assert screen.size == SSH
    main = dashboard.query_one("#main")
    viewport = main.scrollable_content_region  # the boxes scroll inside #main
    boxes = {box_id: dashboard.query_one(f"#{box_id}") for box_id in BOXES}
    fixed = {"header": dashboard.query_one("#header"), "pnl": dashboard.query_one("#pnl")}
    fixed["footer"] = dashboard.query_one("Footer")
    if logs_shown:
        fixed["logs"] = dashboard.logs
    for name, widget in fixed.items():
        assert screen.contains_region(widget.region), f"#{name} is off screen: {widget.region}"
    for box_id, box in boxes.items():
        region = box.region
        assert viewport.x <= region.x and region.right <= viewport.right, f"#{box_id} too wide"
    _assert_disjoint({box_id: box.region for box_id, box in boxes.items()})
    shown = {name: widget.region for name, widget in fixed.items()}
    shown |= {box_id: _visible(box, viewport) for box_id, box in boxes.items()}
    _assert_disjoint(shown)
    assert shown["positions-box"].area  # the top of the dashboard is in view


@pytest.mark.parametrize("logs_shown", [False, True], ids=["dashboard", "with-logs"])
async def test_tab_brings_every_panel_into_view(mono: Console, logs_shown: bool) -> None:
    """At 80×24 the panels stack and scroll: tab must reach each one and show it whole."""
    if logs_shown:
        await mono.pilot.press("l")
        await mono.pilot.pause()
    dashboard = mono.app.dashboard
    viewport = dashboard.query_one("#main").scrollable_content_region
    for box_id in BOXES:
        box = await _tab_to(mono, box_id)
        await mono.pilot.wait_for_scheduled_animations()
        assert _visible(box, viewport) == box.region, f"#{box_id} not fully in view"
        assert dashboard.region.contains_region(box.region)
