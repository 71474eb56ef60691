"""``Dialog``: a modal screen whose dimmed backdrop is rendered once, not on every change.

Textual draws a translucent modal's background by rendering every screen below it and
tinting each segment, and it does so again for any change on the dialog (a focus move,
a button's press effect, a keystroke in an input): ~50 ms at 120×40, on the loop the
engine and the kill key share. Here the backdrop lines are kept until the console says
the dashboard below was redrawn (``refresh_backdrop``, at most once a second while a
dialog is open), the screen size, its tint or the theme change.

``dialog_box``, ``dialog_buttons`` and ``cancel_button`` build the frame every question
dialog shares (ids ``dialog``, ``dialog-title``, ``dialog-question``, ``dialog-buttons``
and ``cancel``, which ``app.tcss`` and the Escape/Cancel handlers rely on). ``YesNoDialog``
is the yes / no question's behaviour: Cancel and Escape answer False.
"""

from __future__ import annotations

import time
from typing import ClassVar, TypeVar

from textual import on
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Static

from screens.choice_keys import CHOICE_KEYS, ButtonChoices

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    """A ``ModalScreen`` with a cached backdrop; subclasses compose as usual."""

    _backdrop: list[Strip] | None = None
    _backdrop_key: tuple[object, ...] = ()
    _backdrop_at = 0.0  # monotonic time the backdrop was drawn

    def refresh_backdrop(self, older_than: float = 0.0) -> bool:
        """The screens below changed: draw the dimmed copy of them again.

        Not when the copy is younger than ``older_than`` seconds (a dialog answered
        within a second never pays for a second copy). True when it will be redrawn.
        """
        if self._backdrop is not None and time.monotonic() - self._backdrop_at < older_than:
            return False
        self._backdrop = None
        self.refresh()
        return True

    def render_line(self, y: int) -> Strip:
        # Focus moves restyle the screen (``:focus-within``) without changing the backdrop:
        # only its size and tint colour do, besides ``refresh_backdrop``.
        key = (self.size, self.styles.background, self.app.theme)
        lines = self._backdrop
        if lines is None or key != self._backdrop_key:
            # One render of the whole backdrop, exactly as Textual draws it; then cached.
            self._backdrop_key, self._backdrop_at = key, time.monotonic()
            lines = self._backdrop = [Widget.render_line(self, row) for row in range(key[0].height)]
        return lines[y] if 0 <= y < len(lines) else Strip.blank(self.size.width)


def dialog_box(title: str, question: str | None = None, *, danger: bool = False) -> Vertical:
    """A dialog's frame holding its title and question; ``with`` it in ``compose`` to add
    the rest. ``danger`` draws it in the error colour (orders or real money at stake)."""
    heading = [Static(title, id="dialog-title")]
    if question is not None:
        heading.append(Static(question, id="dialog-question"))
    return Vertical(*heading, id="dialog", classes="danger" if danger else "")


def dialog_buttons(*buttons: Button) -> Horizontal:
    """The dialog's row of buttons, in the order given."""
    return Horizontal(*buttons, id="dialog-buttons")


def cancel_button(label: str = "Cancel (Esc)") -> Button:
    """The button that answers as Escape does."""
    return Button(label, id="cancel")


class YesNoDialog(ButtonChoices, Dialog[bool]):
    """A question the confirming button (``#confirm``: the subclass says what it answers)
    or Cancel answers; focus starts on Cancel, the arrows move it, Enter presses it (see
    ``screens.choice_keys``). Bind Escape to ``cancel`` (False)."""

    BINDINGS: ClassVar[list[BindingType]] = CHOICE_KEYS

    def on_mount(self) -> None:
        self.show_choice()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    def confirm(self) -> None:
        raise NotImplementedError  # the subclass's ``#confirm`` handler

    def choose_button(self, button_id: str) -> None:
        """Enter: what that button's click answers (also before the buttons are drawn)."""
        if button_id == "confirm":
            self.confirm()
        else:
            self.action_cancel()
