"""The dashboard's keys on a position: exit it (e), exit its strategy (E), exit everything
(the palette) and protect it with a stop-loss, target or trailing stop (p).

Each asks first (a dialog that names exactly what goes out) and then goes through the
engine's operator controls, the same path as ``alphapanda exit``: a square-off command to
execution (a reducing order, so it still goes out while HALTED or REDUCING) or a
protection command to the protection service. Nothing here builds an order.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from textual.actions import SkipAction
from textual.app import App

from alphapanda_tui.backend import EngineHandle
from engine.read_model.views import PositionView
from engine.trading_state.manual import ManualRequestError
from engine.trading_state.operator import NotRunningError
from screens.confirm import ConfirmScreen
from screens.position_exit import ExitChoice, ExitPositionScreen, exit_summary
from screens.protection_dialog import ProtectionChoice, ProtectionScreen
from widgets.positions_table import PositionsTable, protection_detail

audit_log = logging.getLogger("alphapanda.audit")


class PositionActions(App[int]):
    """Mixed into the console's App: the position keys and their confirmations."""

    handle: EngineHandle
    operator: str

    def _selected_position(self) -> PositionView | None:
        """The open position under the positions table's cursor; None (and a word) if none."""
        if self.screen is not self.screen_stack[0]:
            raise SkipAction()  # only over the dashboard, where the trader sees the selection
        view = self.screen_stack[0].query_one("#positions", PositionsTable).selected_position
        if view is None or view.net_quantity == 0:
            self.notify("Select an open position in Positions first.", severity="warning")
            return None
        return view

    # -- e: one position -----------------------------------------------------------------
    def action_exit_position(self) -> None:
        view = self._selected_position()
        if view is not None:
            self.push_screen(ExitPositionScreen(view), lambda c: self._exit_chosen(view, c))

    def _exit_chosen(self, view: PositionView, choice: ExitChoice | None) -> None:
        if choice is None:
            self.notify("Exit cancelled: nothing sent")
            return
        price = choice.limit_price
        work = self.handle.controls.exit_positions(
            symbol=view.symbol, strategy=view.strategy, limit_price=price, operator=self.operator
        )
        what = f"{exit_summary(view)} at {'MARKET' if price is None else price}"
        self._send(work, "position.exit", what, strategy=view.strategy, symbol=view.symbol)

    # -- E: one strategy -----------------------------------------------------------------
    def action_exit_strategy(self) -> None:
        view = self._selected_position()
        if view is None:
            return
        strategy = view.strategy
        open_here = self._open_positions(strategy)
        question = (
            f"Square off every position of {strategy} at MARKET "
            f"({open_here} open)? Trading stays as it is (no halt)."
        )
        confirm = ConfirmScreen(f"Exit {strategy}", question, "Exit strategy")
        self.push_screen(confirm, lambda yes: self._exit_strategy_chosen(strategy, yes))

    def _exit_strategy_chosen(self, strategy: str, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("Exit cancelled: nothing sent")
            return
        work = self.handle.controls.exit_positions(strategy=strategy, operator=self.operator)
        self._send(work, "strategy.exit", f"every position of {strategy}", strategy=strategy)

    # -- the palette: everything ---------------------------------------------------------
    def action_exit_everything(self) -> None:
        if self.screen is not self.screen_stack[0]:
            raise SkipAction()
        question = (
            f"Square off all {self._open_positions()} open position(s) at MARKET? "
            "Trading is not halted: use the kill switch (ctrl+k) to stop strategies too."
        )
        confirm = ConfirmScreen("Exit everything", question, "Exit everything")
        self.push_screen(confirm, self._exit_everything_chosen)

    def _exit_everything_chosen(self, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("Exit cancelled: nothing sent")
            return
        work = self.handle.controls.exit_positions(operator=self.operator)
        self._send(work, "positions.exit_all", "every open position")

    # -- p: stop-loss, target, trailing stop ---------------------------------------------
    def action_protect_position(self) -> None:
        view = self._selected_position()
        if view is None:
            return
        key = (view.strategy, view.instrument_token)
        current = protection_detail(self.handle.read_model.protections.get(key))
        screen = ProtectionScreen(view, current)
        self.push_screen(screen, lambda c: self._protection_chosen(view, c))

    def _protection_chosen(self, view: PositionView, choice: ProtectionChoice | None) -> None:
        if choice is None:
            return
        work = self.handle.controls.protect(
            strategy=view.strategy,
            instrument_token=view.instrument_token,
            levels=choice.levels,
            operator=self.operator,
        )
        what = "clear protection" if choice.levels is None else "set protection"
        symbol = view.symbol.removeprefix("NSE:")
        self._send(work, "position.protect", f"{what} of {symbol} ({view.strategy})")

    # -- shared ----------------------------------------------------------------------------
    def _open_positions(self, strategy: str | None = None) -> int:
        return sum(
            1
            for (name, _), p in self.handle.read_model.positions.items()
            if p.net_quantity and (strategy is None or name == strategy)
        )

    def _send(self, work: Awaitable[None], action: str, what: str, **detail: str) -> None:
        """Run the control as a worker; a refusal is shown, a send is audited."""

        async def send() -> None:
            try:
                await work
            except (ManualRequestError, NotRunningError) as exc:
                self.notify(f"Not sent: {exc}", severity="error")
                return
            audit_log.info(
                f"{action} requested",
                extra={"actor": self.operator, "action": action, "what": what, **detail},
            )
            self.notify(f"Sent: {what}.")

        self.run_worker(send(), name=action, group="control")
