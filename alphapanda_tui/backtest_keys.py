"""The console's backtests key: the archive ``alphapanda backtest`` saves, on a screen."""

from __future__ import annotations

from textual.app import App

from screens.backtests import BacktestsScreen
from storage.backtest_archive import BacktestArchive
from widgets.formatting import Palette


class BacktestKeys(App[int]):
    """Mixed into the console's App. ``backtest_archive`` is set where the settings are
    known (``alphapanda`` itself); without one the screen says there are no backtests."""

    backtest_archive: BacktestArchive | None = None
    palette: Palette

    def action_backtests(self) -> None:
        if isinstance(self.screen, BacktestsScreen):
            return
        runs = self.backtest_archive.recent() if self.backtest_archive is not None else []
        self.push_screen(BacktestsScreen(runs, self.palette))
