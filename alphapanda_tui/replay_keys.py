"""The console's keys on a replayed day: pause/resume, step, speed.

They act only when the engine is a replay (``alphapanda --replay DATE``); elsewhere they
are hidden from the footer and say so if run from the palette. Each change is in the
read model when the key returns, so the header shows it on the next frame.
"""

from __future__ import annotations

from textual.app import App

from alphapanda_tui.backend import EngineHandle
from engine.market.feeds.paced_replay import PacedReplayFeed, faster, slower

REPLAY_ACTIONS = frozenset(
    {"replay_pause", "replay_step", "replay_next_second", "replay_faster", "replay_slower"}
)


class ReplayKeys(App[int]):
    """Mixed into the console's App: space, ``.``, ``>``, ``+`` and ``-`` on a replay."""

    handle: EngineHandle

    @property
    def replay(self) -> PacedReplayFeed | None:
        """The replay feed the keys steer, None when the console is not replaying."""
        return getattr(self.handle, "replay", None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A replay key shows (and works) only on a replay."""
        if action in REPLAY_ACTIONS:
            return self.replay is not None
        return super().check_action(action, parameters)

    def _steered(self) -> PacedReplayFeed | None:
        replay = self.replay
        if replay is None:
            self.notify("Not a replay: start one with alphapanda --replay DATE")
        return replay

    def action_replay_pause(self) -> None:
        if (replay := self._steered()) is not None:
            replay.toggle_pause()

    def action_replay_step(self) -> None:
        if (replay := self._steered()) is not None:
            replay.step_tick()

    def action_replay_next_second(self) -> None:
        if (replay := self._steered()) is not None:
            replay.step_second()

    def action_replay_faster(self) -> None:
        if (replay := self._steered()) is not None:
            replay.set_speed(faster(replay.replay_clock.speed))

    def action_replay_slower(self) -> None:
        if (replay := self._steered()) is not None:
            replay.set_speed(slower(replay.replay_clock.speed))
