"""Command-palette provider: the console's actions by name, from the action registry."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from screens.actions import ACTIONS, ConsoleAction, display_key


class ConsoleCommands(Provider):
    """Offers exactly the actions the footer and the help screen show."""

    def _title(self, action: ConsoleAction) -> str:
        return f"{action.label} ({display_key(action)})"

    async def discover(self) -> Hits:
        for action in ACTIONS:
            yield DiscoveryHit(self._title(action), partial(self._run, action), help=action.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in ACTIONS:
            title = self._title(action)
            score = max(matcher.match(title), matcher.match(action.help))
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), help=action.help
                )

    async def _run(self, action: ConsoleAction) -> None:
        await self.app.run_action(action.action)
