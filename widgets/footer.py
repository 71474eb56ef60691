"""``ConsoleFooter``: Textual's footer, recomposed only when the keys it shows change.

The stock footer rebuilds every key widget whenever the screen's bindings are refreshed,
which happens each time a dialog opens or closes (the kill switch: twice per kill). That
rebuild (styles, layout, a full repaint) blocked the loop for up to ~250 ms at 5,000
ticks/s, right when the dashboard comes back showing HALTED.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class ConsoleFooter(Footer):
    """The same footer; ``bindings_changed`` skips the rebuild when nothing shown changed."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] | None = None

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
