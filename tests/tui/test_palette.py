"""The command palette (ctrl+p): every console action by name, the same list the help shows.

The trader types part of a name, reads the list and presses Enter; the action then runs
exactly as its key would, confirmations included.
"""

from __future__ import annotations

import io
import re

from rich.console import Console as RichConsole
from textual.command import CommandList, CommandPalette

from engine.events.types import TradingMode
from screens.actions import ACTIONS, display_key
from screens.confirm import ConfirmScreen
from screens.help import HelpScreen
from screens.kill_confirm import KillConfirmScreen
from tests.helpers import eventually
from tests.tui.conftest import Console


def palette_entries(console: Console) -> list[tuple[str, str]]:
    """The palette's list as shown, top first: (title, help sentence) per entry."""
    commands = console.app.screen.query_one(CommandList)
    entries = []
    for index in range(commands.option_count):
        title, _, help_text = str(commands.get_option_at_index(index).prompt).partition("\n")
        entries.append((title, help_text))
    return entries


def help_screen_rows(console: Console) -> dict[str, str]:
    """The help screen's key table: help sentence → key, as rendered."""
    out = RichConsole(width=200, record=True, file=io.StringIO())
    out.print(console.app.screen.query_one("#help-keys").content)
    rows = [
        re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.export_text().splitlines()
    ]
    return {row[1]: row[0] for row in rows if len(row) == 2}


async def open_palette(console: Console, query: str = "") -> None:
    """ctrl+p, type ``query``, and wait until the palette has finished searching."""
    await console.pilot.press("ctrl+p")
    assert isinstance(console.app.screen, CommandPalette)
    await console.pilot.press(*query)
    await console.app.workers.wait_for_complete()
    await console.pilot.pause()


def _title(action_id: str) -> str:
    action = next(a for a in ACTIONS if a.id == action_id)
    return f"{action.label} ({display_key(action)})"


async def test_kill_by_name_asks_then_halts(console: Console) -> None:
    await open_palette(console, "kill")
    assert palette_entries(console)[0][0] == _title("kill")  # Enter picks the top entry
    await console.pilot.press("enter")
    await eventually(lambda: isinstance(console.app.screen, KillConfirmScreen))
    assert console.harness.calls == []  # nothing happens before the trader confirms
    await console.pilot.press("enter")  # "Kill" has focus
    await eventually(lambda: "HALTED" in console.header(), message="HALTED not shown")
    assert console.harness.trading_state.scope_mode() is TradingMode.HALTED
    assert console.harness.calls == [("kill", False)]


async def test_escape_closes_the_palette_without_acting(console: Console) -> None:
    await open_palette(console, "kill")
    await console.pilot.press("escape")
    await console.pilot.pause()
    assert console.app.screen is console.app.dashboard
    assert console.harness.calls == []
    assert "ACTIVE" in console.header()


async def test_resume_by_name_after_a_kill(console: Console) -> None:
    await console.pilot.press("ctrl+k", "enter")
    await eventually(lambda: "HALTED" in console.header(), message="HALTED not shown")
    await open_palette(console, "resume")
    titles = [title for title, _ in palette_entries(console)]
    assert titles[0] == _title("resume")
    await console.pilot.press("enter")
    await eventually(lambda: isinstance(console.app.screen, ConfirmScreen))
    await console.pilot.press("left", "enter")  # focus Resume, choose it
    await eventually(lambda: "ACTIVE" in console.header(), message="ACTIVE not shown")
    assert console.harness.trading_state.scope_mode() is TradingMode.ACTIVE


async def test_help_by_name_opens_the_help_screen(console: Console) -> None:
    await open_palette(console, "help")
    titles = [title for title, _ in palette_entries(console)]
    assert _title("help") in titles
    for _ in range(titles.index(_title("help"))):  # arrow down to it, as a trader would
        await console.pilot.press("down")
    await console.pilot.press("enter")
    await eventually(lambda: isinstance(console.app.screen, HelpScreen), message="no help")


async def test_palette_lists_the_actions_the_help_screen_shows(console: Console) -> None:
    await open_palette(console)
    entries = palette_entries(console)
    await console.pilot.press("escape", "question_mark")
    assert isinstance(console.app.screen, HelpScreen)
    help_keys = help_screen_rows(console)
    console_actions = {(title, help_text) for title, help_text in entries if help_text in help_keys}
    assert console_actions == {(_title(a.id), a.help) for a in ACTIONS}
    for title, help_text in console_actions:
        assert title.endswith(f"({help_keys[help_text]})"), f"{title}: help shows another key"
