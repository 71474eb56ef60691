"""The contract between the dashboard's refresh timer and its panels.

A panel names the read-model sections it draws; the dashboard calls ``show`` only when
one of them changed since the last frame, so a tick burst costs one redraw per frame.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Protocol

from engine.read_model import ReadModel
from engine.read_model.views import AccountView, PositionView
from widgets.formatting import Palette, ist_date


class Frame:
    """What every panel needs to draw one frame: the model, the times, the theme colours.

    ``now_ns`` is the wall clock (a Zerodha session expires in wall time); ``run_ns`` is
    the run's clock (the simulated market's event time in SIM) and ``today`` its IST day,
    which every row's time is shown against. ``day`` is the trading day whose money the
    panels and the header's Day P&L show (``ReadModel.trading_day``). Positions and
    account totals are computed once a frame, so the positions TOTAL, the P&L line, the
    strategies' P&L and the header's Day P&L are the same figures.
    """

    __slots__ = ("_account", "_positions", "day", "model", "now_ns", "palette", "run_ns", "today")

    def __init__(self, model: ReadModel, now_ns: int, palette: Palette) -> None:
        self.model = model
        self.now_ns = now_ns
        self.palette = palette
        self.run_ns = model.run_now_ns(now_ns)
        self.today: date | None = ist_date(self.run_ns)
        self.day: str | None = model.trading_day(self.run_ns)
        self._positions: list[PositionView] | None = None
        self._account: AccountView | None = None

    @property
    def positions(self) -> list[PositionView]:
        if self._positions is None:
            self._positions = self.model.position_views(self.day)
        return self._positions

    @property
    def account(self) -> AccountView:
        if self._account is None:
            self._account = self.model.account(self.positions, self.day)
        return self._account


class Panel(Protocol):
    SECTIONS: ClassVar[tuple[str, ...]]

    def show(self, frame: Frame) -> None: ...
