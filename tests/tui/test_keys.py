"""Pilot tests: a trader presses real keys and reads the screen; the engine state agrees."""

from __future__ import annotations

import io

import pytest
from rich.console import Console as RichConsole
from textual import events
from textual.widgets import Input

from engine.events.types import TradingMode
from screens.actions import ACTIONS, display_key
from screens.confirm import ConfirmScreen
from screens.help import HelpScreen
from screens.kill_confirm import KillConfirmScreen
from tests.helpers import eventually
from tests.tui.conftest import Console


def _plain(renderable: object) -> str:
    out = RichConsole(width=200, record=True, file=io.StringIO())
    out.print(renderable)
    return out.export_text()


async def _kill_from_here(console: Console) -> None:
    pilot, harness = console.pilot, console.harness
    await pilot.press("ctrl+k")
    assert isinstance(console.app.screen, KillConfirmScreen)
    await pilot.press("enter")  # "Kill" has focus
    await eventually(lambda: "HALTED" in console.header(), message="HALTED not shown")
    assert harness.trading_state.scope_mode() is TradingMode.HALTED
    assert harness.calls == [("kill", False)]


async def test_dashboard_shows_the_trading_morning(console: Console) -> None:
    dashboard = console.app.dashboard
    positions = dashboard.query_one("#positions")
    assert positions.row_keys[-1] == "__total__"
    assert positions.cell_text("momentum:408065", "unrealized") == "+124.00"
    assert positions.cell_text("__total__", "unrealized") == "+146.50"
    orders = dashboard.query_one("#orders")
    assert orders.row_keys[0] == "ord-2"  # the open order first
    assert orders.cell_text("ord-3", "reason") == "insufficient margin"
    header = console.header()
    assert "PAPER" in header and "ACTIVE" in header
    assert "15 Jan 2025 10:15:00 IST" in header and "Market: OPEN" in header
    assert "Zerodha" not in header  # paper trades no Zerodha account


async def test_kill_from_dashboard(console: Console) -> None:
    await _kill_from_here(console)
    assert isinstance(console.app.screen, type(console.app.dashboard))


async def test_kill_and_square_off(console: Console) -> None:
    await console.pilot.press("ctrl+k", "right", "enter")
    await eventually(lambda: console.harness.calls == [("kill", True)])
    assert console.harness.trading_state.scope_mode() is TradingMode.HALTED


async def test_kill_from_log_viewer_while_typing_a_search(console: Console) -> None:
    await console.pilot.press("l", "slash", "q")  # q is a letter in the search box
    assert isinstance(console.app.focused, Input)
    assert console.app.focused.value == "q"
    await _kill_from_here(console)


async def test_kill_from_help_screen(console: Console) -> None:
    await console.pilot.press("question_mark")
    assert isinstance(console.app.screen, HelpScreen)
    await _kill_from_here(console)


async def test_escape_cancels_the_kill(console: Console) -> None:
    await console.pilot.press("ctrl+k", "escape")
    await console.pilot.pause()
    assert not isinstance(console.app.screen, KillConfirmScreen)
    assert console.harness.calls == []
    assert console.harness.trading_state.scope_mode() is TradingMode.ACTIVE
    assert "ACTIVE" in console.header()


@pytest.mark.parametrize(
    ("button", "calls", "mode"),
    [
        ("#kill", [("kill", False)], TradingMode.HALTED),
        ("#flatten", [("kill", True)], TradingMode.HALTED),
        ("#cancel", [], TradingMode.ACTIVE),
    ],
)
async def test_clicking_a_kill_confirm_button_makes_its_choice(
    console: Console, button: str, calls: list[tuple[str, object]], mode: TradingMode
) -> None:
    await console.pilot.press("ctrl+k")
    assert isinstance(console.app.screen, KillConfirmScreen)
    await console.pilot.click(button)
    await eventually(
        lambda: not isinstance(console.app.screen, KillConfirmScreen), message="still asking"
    )
    await console.pilot.pause()
    assert console.harness.calls == calls
    assert console.harness.trading_state.scope_mode() is mode


async def test_ctrl_k_inside_the_kill_confirm_does_not_stack(console: Console) -> None:
    await console.pilot.press("ctrl+k", "ctrl+k")
    assert len(console.app.screen_stack) == 2


async def test_resume_asks_then_resumes(console: Console) -> None:
    await _kill_from_here(console)
    await console.pilot.press("r")
    assert isinstance(console.app.screen, ConfirmScreen)
    await console.pilot.press("escape")
    assert console.harness.trading_state.scope_mode() is TradingMode.HALTED
    await console.pilot.press("r", "left", "enter")  # focus Resume, choose it
    await eventually(lambda: "ACTIVE" in console.header(), message="ACTIVE not shown")
    assert console.harness.trading_state.scope_mode() is TradingMode.ACTIVE


async def test_h_halts_the_selected_strategy(console: Console) -> None:
    strategies = console.app.dashboard.query_one("#strategies")
    await console.pilot.press("down")  # mean_revert → momentum
    assert strategies.selected_strategy == "momentum"
    await console.pilot.press("h")
    await eventually(lambda: strategies.cell_text("momentum", "state") == "HALTED")
    assert console.harness.trading_state.scope_mode("momentum") is TradingMode.HALTED
    assert strategies.cell_text("mean_revert", "state") == "ACTIVE"
    await console.pilot.press("h")
    await console.harness.drained()
    await eventually(lambda: strategies.cell_text("momentum", "state") == "ACTIVE")


async def test_l_toggles_the_log_viewer(console: Console) -> None:
    logs = console.app.dashboard.logs
    assert not logs.display
    await console.pilot.press("l")
    await console.pilot.pause()
    assert logs.display
    assert "insufficient margin" in "\n".join(line.text for line in logs.lines.lines)
    await console.pilot.press("v")  # INFO → WARNING and above
    shown = "\n".join(line.text for line in logs.lines.lines)
    assert "insufficient margin" in shown and "bus started" not in shown
    await console.pilot.press("l")
    assert not logs.display


async def test_help_lists_every_action(console: Console) -> None:
    await console.pilot.press("question_mark")
    assert isinstance(console.app.screen, HelpScreen)
    lines = _plain(console.app.screen.query_one("#help-keys").content).splitlines()
    rows = {(line[:17].strip(), line[17:].strip()) for line in lines}
    for action in ACTIONS:
        assert (display_key(action), action.help) in rows
    await console.pilot.press("escape")
    assert not isinstance(console.app.screen, HelpScreen)


async def test_quit_with_open_orders_asks_first(console: Console) -> None:
    await console.pilot.press("q")
    assert isinstance(console.app.screen, ConfirmScreen)
    await console.pilot.press("escape")
    assert console.app.is_running and not console.harness.stopped
    await console.pilot.press("q", "left", "enter")
    await eventually(lambda: console.harness.stopped, message="engine not stopped")
    assert console.app.return_code == 0


@pytest.mark.parametrize(
    ("keys", "calls", "mode"),
    [
        (("right", "enter"), [("kill", True)], TradingMode.HALTED),
        (("right", "right", "enter"), [], TradingMode.ACTIVE),
        (("right", "left", "enter"), [("kill", False)], TradingMode.HALTED),
    ],
    ids=["square-off", "cancel", "kill"],
)
async def test_keys_typed_ahead_make_the_choice_they_spell(
    console: Console, keys: tuple[str, ...], calls: list[tuple[str, object]], mode: TradingMode
) -> None:
    """Right then Enter arriving together (a fast hand, or one read over SSH): seen in a
    real terminal, Enter chose Kill while the Right still travelled to the screen, so
    "Kill and square off" left the position open."""
    await console.pilot.press("ctrl+k")
    assert isinstance(console.app.screen, KillConfirmScreen)
    for key in keys:  # queued at once, as the terminal driver posts them
        console.app.post_message(events.Key(key, "\r" if key == "enter" else None))
    await eventually(
        lambda: not isinstance(console.app.screen, KillConfirmScreen), message="still asking"
    )
    await console.pilot.pause()
    assert console.harness.calls == calls
    assert console.harness.trading_state.scope_mode() is mode


async def test_square_off_typed_ahead_of_the_dialog_squares_off(console: Console) -> None:
    """ctrl+k, Right, Enter in one burst: the Right comes before the dialog's first frame
    (focus on Kill not set yet) and still counts."""
    for key in ("ctrl+k", "right", "enter"):
        console.app.post_message(events.Key(key, "\r" if key == "enter" else None))
    await eventually(lambda: console.harness.calls == [("kill", True)], message="no square off")
    assert not isinstance(console.app.screen, KillConfirmScreen)


async def test_quit_typed_ahead_answers_as_typed(console: Console) -> None:
    """The quit question (focus on Cancel): Left, Enter in one burst means Quit."""
    await console.pilot.press("q")
    assert isinstance(console.app.screen, ConfirmScreen)
    for key in ("left", "right", "enter"):  # back to Cancel before Enter
        console.app.post_message(events.Key(key, "\r" if key == "enter" else None))
    await eventually(lambda: not isinstance(console.app.screen, ConfirmScreen))
    assert console.app.is_running
