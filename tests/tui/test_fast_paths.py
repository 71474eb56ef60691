"""The console's cheap paths under load: what they skip, and that they still show the truth.

The kill switch is enforced in the dialog's key handler; tables and the alert feed redraw
only what changed; a dialog keeps its dimmed backdrop; the footer is not rebuilt when a
dialog closes; the GC settings are undone when the console exits.
"""

from __future__ import annotations

import gc

from rich.text import Text
from textual.app import App, ComposeResult

from engine.events import topics
from engine.events.payloads import RiskAlert
from engine.events.types import EventType, OrderStatus, Severity, TradingMode
from engine.gc_tuning import GcTuning
from screens.confirm import ConfirmScreen
from screens.kill_confirm import KillConfirmScreen
from tests.helpers import eventually
from tests.tui.conftest import Console
from tests.tui.harness import START_NS, order, tick
from widgets.keyed_table import KeyedTable


async def test_enter_halts_inside_the_key_handler(console: Console) -> None:
    """No worker, no message hop: HALTED in the engine and the header when Enter returns."""
    await console.pilot.press("ctrl+k")
    dialog = console.app.screen
    assert isinstance(dialog, KillConfirmScreen)
    await console.pilot.pause()

    dialog.action_choose_focused()  # what the priority Enter binding runs

    assert console.harness.trading_state.scope_mode() is TradingMode.HALTED
    assert "HALTED" in console.header()
    await eventually(lambda: console.harness.calls == [("kill", False)])  # then the command
    await console.harness.drained()
    assert console.harness.trading_state.scope_mode() is TradingMode.HALTED


async def test_cancel_in_the_kill_dialog_changes_nothing(console: Console) -> None:
    await console.pilot.press("ctrl+k", "right", "right")  # focus "Cancel"
    await console.pilot.press("enter")
    await console.pilot.pause()
    assert not isinstance(console.app.screen, KillConfirmScreen)
    assert console.harness.trading_state.scope_mode() is TradingMode.ACTIVE
    assert console.harness.calls == []


async def test_a_price_move_redraws_only_its_cells(console: Console) -> None:
    positions = console.app.dashboard.query_one("#positions", KeyedTable)
    positions.focus()
    await console.pilot.press("down")  # the cursor survives redraws: move it off the top
    cursor = positions.cursor_row
    before = positions.cell_updates
    await console.harness.publish(
        topics.MARKET_TICKS, EventType.MARKET_TICK, tick(408065, "NSE:INFY", "1513.40"), "408065"
    )
    await console.settle()
    assert positions.cell_text("momentum:408065", "ltp") == "1,513.40"
    # LTP, unrealized, P&L and day change of INFY, and the unrealized and P&L totals:
    # nothing else.
    assert positions.cell_updates - before == 6
    assert positions.cursor_row == cursor


async def test_new_orders_keep_the_open_ones_first(console: Console) -> None:
    orders = console.app.dashboard.query_one("#orders", KeyedTable)
    for index in range(3):
        update = order(f"new-{index}", "NSE:TCS", OrderStatus.FILLED, filled=10, at=60 + index)
        await console.harness.publish(
            topics.orders_events(console.harness.broker),
            EventType.ORDER_FILLED,
            update,
            f"new-{index}",
        )
    await console.settle()
    keys = orders.row_keys
    assert keys[0] == "ord-2"  # still the one working order
    assert keys[1:4] == ["new-2", "new-1", "new-0"]  # then the newest finished ones


async def test_alert_feed_wraps_each_alert_once(console: Console) -> None:
    feed = console.app.dashboard.query_one("#alerts")
    assert "max_position_value" in feed.plain
    breach = RiskAlert(
        severity=Severity.CRITICAL,
        rule="daily_loss",
        message="daily loss limit breached " * 4,
        alert_ts=START_NS,
    )
    await console.harness.publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, breach)
    await console.settle()
    lines = feed.plain.splitlines()
    assert "CRITICAL" in lines[0].split()[:3]  # pinned first (▲), wrapped to the panel
    assert any("max_position_value" in line for line in lines)
    cached = dict(feed._wrapped)
    console.app.refresh_from_model(force=True)
    assert all(feed._wrapped[key][1] is cached[key][1] for key in cached)  # not re-wrapped


async def test_dialog_keeps_its_backdrop_across_focus_moves(console: Console) -> None:
    await console.pilot.press("q")  # an open order: the quit question
    dialog = console.app.screen
    assert isinstance(dialog, ConfirmScreen)
    await eventually(lambda: dialog._backdrop is not None, message="backdrop never drawn")
    backdrop = dialog._backdrop
    await console.pilot.press("left")  # focus moves between the buttons
    await console.pilot.pause()
    assert dialog._backdrop is backdrop
    dialog.refresh_backdrop()  # what the console does after redrawing the dashboard below
    await eventually(lambda: dialog._backdrop is not None and dialog._backdrop is not backdrop)
    await console.pilot.press("escape")


async def test_footer_is_not_rebuilt_when_a_dialog_closes(console: Console) -> None:
    footer = console.app.dashboard.query_one("ConsoleFooter")
    keys = list(footer.children)
    assert keys
    await console.pilot.press("question_mark")
    await console.pilot.pause()
    await console.pilot.press("escape")
    await console.pilot.pause()
    assert list(footer.children) == keys


def test_gc_tuning_is_undone() -> None:
    before = gc.get_threshold()
    tuning = GcTuning((12_345, 7, 9))
    tuning.apply()
    try:
        assert gc.get_threshold() == (12_345, 7, 9)
        assert gc.get_freeze_count() > 0
    finally:
        tuning.restore()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    tuning.restore()  # twice is harmless


class _OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable([("a", "A", 4), ("b", "B", 6)], id="t")


async def test_keyed_table_cuts_long_cells_and_keeps_the_cursor_in_range() -> None:
    app = _OneTable()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one("#t", KeyedTable)
        table.sync([("x", ("toolong", Text("1.5", justify="right"))), ("y", ("ok", "2"))])
        table.focus()
        await pilot.press("down")
        assert table.cursor_key == "y"
        assert table.render_line(1).text.startswith(" too… ")
        assert table.render_line(1).text[7:13] == "   1.5"
        table.sync([("x", ("toolong", "1.5"))])  # y went away: the cursor follows
        await pilot.pause()
        assert table.cursor_key == "x"
        assert table.cell_text("x", "b") == "1.5"
