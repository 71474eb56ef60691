"""The console's action registry: one list the footer, help screen and command palette read.

Each action has a stable id (keymaps can rebind it), a key, a short footer label and a
sentence for the help screen and the palette. Only the kill switch and quit are priority
bindings: they must work whatever has focus.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class ConsoleAction:
    id: str
    key: str
    action: str  # the App action, without the ``action_`` prefix
    label: str  # short, for the footer
    help: str  # a sentence, for the help screen and the command palette
    priority: bool = False
    key_display: str | None = None
    show: bool = True  # in the footer; help and the palette list every action


ACTIONS: tuple[ConsoleAction, ...] = (
    ConsoleAction(
        "kill",
        "ctrl+k",
        "kill_switch",
        "Kill",
        "Kill switch: halt all trading now and cancel every open order (optionally square off)",
        priority=True,
        key_display="^k",
    ),
    ConsoleAction("resume", "r", "resume", "Resume", "Resume trading after a halt or kill"),
    ConsoleAction(
        "login",
        "ctrl+l",
        "login",
        "Login",
        "Login / refresh token: log in to Zerodha for today (live mode)",
        key_display="^l",
    ),
    ConsoleAction(
        "sync_instruments",
        "i",
        "sync_instruments",
        "Sync instruments",
        "Sync instruments: download today's Zerodha instruments dump into the database (live)",
        show=False,  # once a morning: not worth footer space on an 80-column terminal
    ),
    ConsoleAction(
        "halt_strategy",
        "h",
        "toggle_strategy",
        "Halt/resume",  # the strategy selected: room for the ack key at 80 columns
        "Halt the selected strategy, or resume it when it is halted",
    ),
    ConsoleAction(
        "ack_alerts",
        "a",
        "acknowledge_alerts",
        "Ack",
        "Acknowledge the pinned CRITICAL risk alerts (kill switch, halts, token expiry): "
        "they stay at the top of Risk alerts until then",
    ),
    ConsoleAction("logs", "l", "toggle_logs", "Logs", "Show or hide the log viewer"),
    ConsoleAction("help", "question_mark", "help", "Help", "Show every key", key_display="?"),
    ConsoleAction("quit", "q", "quit_console", "Quit", "Quit the console", priority=True),
    ConsoleAction(
        "orders_book",
        "o",
        "orders_book",
        "Orders",  # last in the footer: the first to go when Ack needs the room at 80
        "Orders book: the day's orders, filter open / all / rejected, Enter for an order's "
        "status history and fills",
    ),
    ConsoleAction(
        "buy_ticket",
        "b",
        "order_ticket('BUY')",
        "Buy",
        "Order ticket, BUY: instrument, quantity, type, product, validity, price; review "
        "what will be sent, its value and charges, then confirm (strategy manual)",
        show=False,  # the footer has no room at 80 columns; help and the palette list it
    ),
    ConsoleAction(
        "sell_ticket",
        "s",
        "order_ticket('SELL')",
        "Sell",
        "Order ticket, SELL: as Buy, for a sell order",
        show=False,
    ),
    ConsoleAction(
        "exit_position",
        "e",
        "exit_position",
        "Exit",
        "Exit the position selected in Positions: at market or a limit you type (confirm)",
        show=False,  # no footer room at 80 columns; the Positions title shows e · E · p
    ),
    ConsoleAction(
        "exit_strategy",
        "E",
        "exit_strategy",
        "Exit strategy",
        "Exit every position of the selected position's strategy at market (confirm); no halt",
        show=False,
    ),
    ConsoleAction(
        "exit_everything",
        "",  # the palette only: one keystroke should not square off the book
        "exit_everything",
        "Exit everything",
        "Exit everything: square off every open position at market (confirm); no halt",
        show=False,
    ),
    ConsoleAction(
        "protect_position",
        "p",
        "protect_position",
        "Protect",
        "Stop-loss, target and trailing stop of the selected position (price or %), or clear",
        show=False,
    ),
    ConsoleAction(
        "trade_book",
        "t",
        "trade_book",
        "Trades",
        "Trade book: the day's fills with price, quantity, charges and order id",
        show=False,  # at 80 columns the footer has room for one book; o then t switches
    ),
    ConsoleAction(
        "backtests",
        "B",
        "backtests",
        "Backtests",
        "Backtests: the last saved runs of alphapanda backtest and the selected one's equity "
        "curve and figures",
        show=False,  # no footer room at 80 columns; help and the palette list it
    ),
    ConsoleAction(
        "replay_pause",
        "space",
        "replay_pause",
        "Pause",
        "Replay: pause or resume the replayed day (its clock stops with it)",
        key_display="space",
        show=False,  # the header names the replay keys; only a replay answers them
    ),
    ConsoleAction(
        "replay_step",
        "full_stop",
        "replay_step",
        "Step",
        "Replay: pause and publish exactly one more tick",
        key_display=".",
        show=False,
    ),
    ConsoleAction(
        "replay_next_second",
        "greater_than_sign",
        "replay_next_second",
        "Next second",
        "Replay: pause and move to the next second of the replayed day",
        key_display=">",
        show=False,
    ),
    ConsoleAction(
        "replay_faster",
        "plus,equals_sign",
        "replay_faster",
        "Faster",
        "Replay: faster (1x, 2x, 5x, 10x, 60x, max)",
        key_display="+",
        show=False,
    ),
    ConsoleAction(
        "replay_slower",
        "minus",
        "replay_slower",
        "Slower",
        "Replay: slower (down to 1x)",
        key_display="-",
        show=False,
    ),
)


def bindings() -> list[BindingType]:
    return [
        Binding(
            a.key,
            a.action,
            a.label,
            show=a.show,
            id=a.id,
            priority=a.priority,
            key_display=a.key_display,
        )
        for a in ACTIONS
        if a.key
    ]


def display_key(action: ConsoleAction) -> str:
    return action.key_display or action.key or "palette"  # no key: the palette only


def unlisted(*ids: str) -> list[BindingType]:
    """The App's actions ``ids`` bound on a screen with their keys but left out of its
    footer: a screen with keys of its own has no room for them at 80 columns."""
    return [
        Binding(
            a.key,
            f"app.{a.action}",
            a.label,
            show=False,
            id=a.id,
            key_display=a.key_display,
        )
        for a in ACTIONS
        if a.id in ids and a.key
    ]
