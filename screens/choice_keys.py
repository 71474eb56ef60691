"""Arrow keys and Enter over a question dialog's buttons, answered in the order typed.

Seen in a real terminal: ctrl+k, then Right and Enter typed together (a fast hand, or
one read over SSH), halted without squaring off. Two races: an arrow that is not a
priority key goes to the focused button and reaches the screen messages later, after an
Enter that was; and ``Widget.focus`` is deferred, so keys typed ahead of the dialog's
first frame found nothing focused yet. So the arrows and Enter are the screen's priority
keys, and the choice is a cursor over the button ids moved as each key comes; the
buttons' focus only shows it. Enter reads the cursor, never ``focused``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.widgets import Button

if TYPE_CHECKING:
    from textual.screen import Screen

    _ScreenBase = Screen[Any]
else:
    _ScreenBase = object

CHOICE_KEYS: list[BindingType] = [
    Binding("left,shift+tab", "switch(-1)", show=False, priority=True),
    Binding("right,tab", "switch(1)", show=False, priority=True),
    Binding("enter", "choose_focused", show=False, priority=True),
]


class ChoiceCursor:
    """Which button the keys typed so far point at; wraps around like ``focus_next``."""

    def __init__(self, ids: Sequence[str], start: str) -> None:
        self.ids = tuple(ids)
        self.index = self.ids.index(start) if start in self.ids else 0

    @property
    def current(self) -> str:
        return self.ids[self.index]

    def move(self, step: int) -> str:
        self.index = (self.index + step) % len(self.ids)
        return self.current

    def point_at(self, button_id: str) -> None:
        if button_id in self.ids:
            self.index = self.ids.index(button_id)


class ButtonChoices(_ScreenBase):
    """Mixin for a dialog whose buttons answer it: bind ``CHOICE_KEYS``, set ``CHOICES``
    and ``FIRST`` (or override ``choice_ids``), call ``show_choice`` on mount, and answer
    in ``choose_button``."""

    CHOICES: ClassVar[tuple[str, ...]] = ("confirm", "cancel")
    FIRST: ClassVar[str] = "cancel"

    def choice_ids(self) -> Sequence[str]:
        return self.CHOICES

    @property
    def cursor(self) -> ChoiceCursor:
        cursor: ChoiceCursor | None = getattr(self, "_choice_cursor", None)
        if cursor is None:
            cursor = self._choice_cursor = ChoiceCursor(self.choice_ids(), self.FIRST)
        return cursor

    def show_choice(self) -> None:
        """Focus the button the cursor is on, at once (``set_focus``, not the deferred
        ``focus``); before the buttons exist, ``on_mount`` shows it."""
        try:
            self.set_focus(self.query_one(f"#{self.cursor.current}", Button))
        except NoMatches:
            pass

    def action_switch(self, step: int = 1) -> None:
        self.cursor.move(step)
        self.show_choice()

    def action_choose_focused(self) -> None:
        """Enter: the button the keys typed so far point at."""
        self.choose_button(self.cursor.current)

    def choose_button(self, button_id: str) -> None:
        raise NotImplementedError

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A click or a program moved the focus: the cursor follows (a stale event, for a
        focus the keys have moved on from, is ignored)."""
        widget = event.widget
        if widget is self.focused and isinstance(widget, Button) and widget.id:
            self.cursor.point_at(widget.id)
