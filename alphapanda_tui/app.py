"""``AlphaPandaApp``: the console. It owns the engine as a worker and draws its read model.

One timer at ``refresh_hz`` reads the read model and redraws only what changed, so a
burst of ticks costs at most ``refresh_hz`` redraws a second. Control actions (kill,
halt, resume) run as workers: the UI never waits on the bus, and a failure is shown.
"""

from __future__ import annotations

from textual import on, work
from textual.actions import SkipAction
from textual.app import App
from textual.css.query import NoMatches
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from alphapanda_tui.backend import EngineHandle
from alphapanda_tui.operator import operator_identity
from engine.events.types import TradingMode
from engine.read_model import GLOBAL_SCOPE
from screens import actions
from screens.confirm import ConfirmScreen
from screens.dashboard import DashboardScreen
from screens.engine_error import EngineErrorScreen
from screens.help import HelpScreen
from screens.kill_confirm import KillChoice, KillConfirmScreen
from screens.palette import ConsoleCommands
from widgets.formatting import Palette

EXIT_ENGINE_FAILED = 1


class AlphaPandaApp(App[int]):
    """The trading console over one ``EngineHandle``."""

    CSS_PATH = "app.tcss"
    TITLE = "AlphaPanda"
    BINDINGS = actions.bindings()
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(
        self, handle: EngineHandle, *, refresh_hz: float = 10.0, operator: str | None = None
    ) -> None:
        super().__init__()
        if refresh_hz <= 0:
            raise ValueError("refresh_hz must be positive")
        self.handle = handle
        self.refresh_hz = refresh_hz
        self.operator = operator or operator_identity()
        self.palette = Palette()
        self.refresh_count = 0  # redraws caused by new data (bounded by refresh_hz)
        self.engine_running = False
        self._engine_stopped = False
        self._last_version = -1

    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen(self.handle.mode, self.handle.broker.value, self.handle.log_ring)

    @property
    def dashboard(self) -> DashboardScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.palette = Palette(self.theme_variables)
        self.call_after_refresh(self.refresh_from_model, True)
        self.set_interval(1 / self.refresh_hz, self.refresh_from_model, name="refresh")
        self.run_engine()

    # -- engine lifecycle -----------------------------------------------------------
    @work(exclusive=True, group="engine", exit_on_error=False)
    async def run_engine(self) -> None:
        await self.handle.start()
        self.engine_running = True

    async def stop_engine(self) -> None:
        """Stop the engine once: drain, snapshot, persist."""
        if self._engine_stopped:
            return
        self._engine_stopped = True
        self.engine_running = False
        await self.handle.stop()

    async def on_unmount(self) -> None:
        await self.stop_engine()

    @on(Worker.StateChanged)
    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """Engine failure: a modal, then exit 1. A failed control action: a loud notice."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        if worker.group == "engine":
            self.engine_running = False
            self.push_screen(EngineErrorScreen(str(worker.error)), self._exit_after_failure)
        else:
            self.notify(
                f"{worker.name} FAILED: {worker.error}",
                title="Control action failed",
                severity="error",
                timeout=30,
            )

    async def _exit_after_failure(self, _: None) -> None:
        await self.stop_engine()
        self.exit(EXIT_ENGINE_FAILED, return_code=EXIT_ENGINE_FAILED)

    # -- refresh --------------------------------------------------------------------
    def refresh_from_model(self, force: bool = False) -> None:
        """The one refresh: redraw what changed since the last frame (clock included)."""
        model = self.handle.read_model
        try:
            drawn = self.dashboard.draw(model, self.handle.clock.now_ns(), self.palette, force)
        except NoMatches:  # the timer fired while the screen was being torn down at exit
            return
        if drawn and model.version != self._last_version:
            self.refresh_count += 1
        self._last_version = model.version

    # -- actions --------------------------------------------------------------------
    def action_kill_switch(self) -> None:
        if isinstance(self.screen, KillConfirmScreen):
            raise SkipAction()
        model = self.handle.read_model
        positions = sum(1 for p in model.positions.values() if p.net_quantity)
        screen = KillConfirmScreen(self.handle.mode, len(model.open_orders()), positions)
        self.push_screen(screen, self._kill_chosen)

    def _kill_chosen(self, choice: KillChoice | None) -> None:
        if choice is None:
            self.notify("Kill switch cancelled: nothing changed")
            return
        flatten = choice is KillChoice.FLATTEN
        self.run_worker(self._kill(flatten), name="Kill switch", group="control")

    async def _kill(self, flatten: bool) -> None:
        await self.handle.kill(flatten=flatten, operator=self.operator)
        reason = "kill switch" + (" (square off)" if flatten else "")
        self.handle.read_model.set_trading_state(GLOBAL_SCOPE, TradingMode.HALTED, reason)
        self.refresh_from_model()

    def action_resume(self) -> None:
        model = self.handle.read_model
        if model.global_state is TradingMode.ACTIVE:
            self.notify("Trading is already ACTIVE")
            return
        question = f"Trading is {model.global_state.value}. Resume sending new orders?"
        confirm = ConfirmScreen("Resume trading", question, "Resume")
        self.push_screen(confirm, self._resume_chosen)

    def _resume_chosen(self, confirmed: bool | None) -> None:
        if confirmed:
            resume = self.handle.resume(None, operator=self.operator)
            self.run_worker(resume, name="Resume", group="control")

    def action_toggle_strategy(self) -> None:
        strategy = self.dashboard.selected_strategy
        if strategy is None:
            self.notify("No strategy selected", severity="warning")
            return
        model = self.handle.read_model
        if model.trading_states.get(strategy) is TradingMode.HALTED:
            self.run_worker(self._strategy(strategy, halt=False), name="Resume", group="control")
        else:
            self.run_worker(self._strategy(strategy, halt=True), name="Halt", group="control")

    async def _strategy(self, strategy: str, *, halt: bool) -> None:
        if halt:
            await self.handle.halt(strategy, operator=self.operator)
            self.handle.read_model.set_trading_state(strategy, TradingMode.HALTED, "operator")
            self.refresh_from_model()
        else:
            await self.handle.resume(strategy, operator=self.operator)
        self.notify(f"{'Halt' if halt else 'Resume'} sent for {strategy}")

    def action_toggle_logs(self) -> None:
        if self.screen is not self.dashboard:
            raise SkipAction()
        self.dashboard.toggle_logs()
        self.refresh_from_model()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        await self.action_quit_console()

    async def action_quit_console(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # a q typed into the log search is a letter
        if isinstance(self.screen, ConfirmScreen | KillConfirmScreen):
            raise SkipAction()  # answer the open question first
        open_orders = len(self.handle.read_model.open_orders())
        if self.handle.mode == "live" or open_orders:
            why = f"{open_orders} order(s) are still open" if open_orders else "LIVE trading"
            question = f"{why}. Quit the console and stop the engine?"
            self.push_screen(ConfirmScreen("Quit", question, "Quit"), self._quit_chosen)
            return
        await self._quit()

    async def _quit_chosen(self, confirmed: bool | None) -> None:
        if confirmed:
            await self._quit()

    async def _quit(self) -> None:
        await self.stop_engine()
        self.exit(0, return_code=0)


def make_app(
    handle: EngineHandle, *, refresh_hz: float = 10.0, operator: str | None = None
) -> AlphaPandaApp:
    """The console for ``handle``; tests and the CLI build it the same way.

    ``operator`` is stamped on control commands (default: ``user@host`` of this process).
    """
    return AlphaPandaApp(handle, refresh_hz=refresh_hz, operator=operator)
