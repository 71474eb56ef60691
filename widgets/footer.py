"""``ConsoleFooter``: Textual's footer, recomposed only when the keys it shows change, and
never wider than the terminal.

The stock footer rebuilds every key widget whenever the screen's bindings are refreshed,
which happens each time a dialog opens or closes (the kill switch: twice per kill). That
rebuild (styles, layout, a full repaint) blocked the loop for up to ~250 ms at 5,000
ticks/s, right when the dashboard comes back showing HALTED.

The stock footer also lets keys run on under the palette key at the right edge: at 80
columns, live (``^l Login``) or with a pinned alarm (``a Ack``), ``q Quit`` was cut. Here
the keys that can best be spared give way instead (help and the palette list them all).
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# The keys that give way, first to last, when the footer's keys do not fit beside the
# palette key; the kill switch, quit, the ack key and a screen's own keys never do.
GIVE_WAY = (
    "toggle_logs",
    "orders_book",
    "trade_book",
    "help",
    "login",
    "toggle_strategy",
    "resume",
)
PALETTE_CELLS = 12  # "▏^p palette " at the right edge


def key_cells(key: FooterKey) -> int:
    """The cells a footer key takes: `` ^k Kill `` (its key, a space, its label, padding)."""
    return cell_len(key.key_display) + 1 + cell_len(key.description) + 2


class ConsoleFooter(Footer):
    """The same footer; ``bindings_changed`` skips the rebuild when nothing shown changed,
    and keys that would not fit give way in the order of ``GIVE_WAY``."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] | None = None
        self._fitted_width = 0

    def _signature(self) -> tuple[object, ...]:
        """Everything ``compose`` draws from: each shown binding, enabled or not, and tooltip."""
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip, binding.show)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show or binding.action == "command_palette"
        )

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = self._signature()
            if shown == self._shown and self._bindings_ready:
                return
            self._shown = shown
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._fitted_width = width = self.size.width
        if width:
            widgets = fitted(widgets, width - PALETTE_CELLS)
        yield from widgets

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._fitted_width:
            self.refresh(recompose=True)


def fitted(widgets: list[Widget], room: int) -> list[Widget]:
    """``widgets`` less the keys that give way until the rest fit in ``room`` cells."""
    keys = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
    total = sum(key_cells(key) for key in keys)
    gone: set[int] = set()
    for action in GIVE_WAY:
        if total <= room:
            break
        for key in keys:
            if key.action.rpartition(".")[2] == action and id(key) not in gone:
                gone.add(id(key))
                total -= key_cells(key)
    return [w for w in widgets if id(w) not in gone]
