"""``AlphaPandaApp``: the console. It owns the engine as a worker and draws its read model.

One timer at ``refresh_hz`` reads the read model and redraws only what changed, so a
burst of ticks costs at most ``refresh_hz`` redraws a second. Control actions (kill,
halt, resume) run as workers: the UI never waits on the bus, and a failure is shown.
"""

from __future__ import annotations

import logging

from textual import on, work
from textual.actions import SkipAction
from textual.app import App
from textual.css.query import NoMatches
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from alphapanda_tui.backend import EngineHandle
from alphapanda_tui.backtest_keys import BacktestKeys
from alphapanda_tui.operator import operator_identity
from alphapanda_tui.order_modify import OrderModifier
from alphapanda_tui.position_actions import PositionActions
from alphapanda_tui.replay_keys import ReplayKeys
from alphapanda_tui.stop_signals import StopSignals
from engine.domain.projection import project
from engine.domain.records import OrderRecord
from engine.events.payloads import OrderUpdate
from engine.events.types import Side, TradingMode
from engine.gc_tuning import GcTuning
from engine.read_model import GLOBAL_SCOPE
from engine.read_model.alert_seed import ACKNOWLEDGE, acknowledgement_detail
from engine.read_model.model import TRADING
from engine.risk.alerts import resume_note
from engine.risk.rules import rupees
from screens import actions
from screens.book_screen import BookScreen
from screens.confirm import ConfirmScreen
from screens.dashboard import DashboardScreen
from screens.dialog import Dialog
from screens.engine_error import EngineErrorScreen
from screens.help import HelpScreen
from screens.instruments_sync import InstrumentSyncScreen
from screens.kill_confirm import KillChoice, KillConfirmScreen
from screens.login import LoginScreen
from screens.order_ticket import ticket_for
from screens.orders_book import OrdersBookScreen
from screens.palette import ConsoleCommands
from screens.prechecks import PrecheckScreen
from screens.trade_book import TradeBookScreen
from widgets.formatting import Palette

EXIT_ENGINE_FAILED = 1
BACKDROP_REDRAW_S = 1.0  # how often a dialog's dimmed copy of the dashboard is redrawn
_DASHBOARD_ONLY = ("toggle_strategy", "toggle_logs")  # act on the dashboard's own panels

log = logging.getLogger("alphapanda.console")
audit_log = logging.getLogger("alphapanda.audit")


class AlphaPandaApp(StopSignals, ReplayKeys, BacktestKeys, PositionActions):
    """The trading console over one ``EngineHandle``."""

    CSS_PATH = "app.tcss"
    TITLE = "AlphaPanda"
    BINDINGS = actions.bindings()
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(
        self,
        handle: EngineHandle,
        *,
        refresh_hz: float = 10.0,
        operator: str | None = None,
        tune_gc: bool = True,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        if refresh_hz <= 0:
            raise ValueError("refresh_hz must be positive")
        if theme is not None:
            self.theme = theme  # an unknown name raises here, before the screen opens
        self.handle = handle
        self.refresh_hz = refresh_hz
        self.operator = operator or operator_identity()
        self.palette = Palette()
        self.refresh_count = 0  # redraws caused by new data (bounded by refresh_hz)
        self.engine_running = False
        self._engine_stopped = False
        self._last_version = -1
        self._stop_signals: list[int] = []
        self._logged_in: bool | None = None  # live: the Zerodha session as last drawn
        self._stopping_on_signal = False
        self.tune_gc = tune_gc
        self._gc = GcTuning()
        self._pinned_alerts = 0  # as the footer last showed them (the ack key shows when > 0)

    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen(self.handle.mode, self.handle.broker.value, self.handle.log_ring)

    @property
    def dashboard(self) -> DashboardScreen:
        return self.screen_stack[0]  # type: ignore[return-value]  # the first screen pushed

    def on_mount(self) -> None:
        self.palette = Palette(self.theme_variables)
        self.call_after_refresh(self.refresh_from_model, True)
        self.set_interval(1 / self.refresh_hz, self.refresh_from_model, name="refresh")
        self.install_stop_signals()
        self.run_engine()

    # -- engine lifecycle -----------------------------------------------------------
    @work(exclusive=True, group="engine", exit_on_error=False)
    async def run_engine(self) -> None:
        await self.handle.start()
        self.engine_running = True
        if self.tune_gc:
            self._gc.apply()  # the console and engine are built: freeze them (see gc_tuning)

    async def stop_engine(self) -> None:
        """Stop the engine once: drain, snapshot, persist."""
        if self._engine_stopped:
            return
        self._engine_stopped = True
        self.engine_running = False
        await self.handle.stop()

    async def on_unmount(self) -> None:
        self._remove_stop_signals()
        await self.stop_engine()
        self._gc.restore()

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
        """The one refresh: redraw what changed since the last frame (clock included).

        Under a dialog the dashboard is a dimmed backdrop that the dialog keeps as drawn
        (``screens.dialog``: re-tinting the whole screen costs ~30-50 ms at 120×40); the
        dashboard is still brought up to date every frame, and the backdrop redrawn from
        it at most once a second.

        Nothing is drawn while the engine starts: until it has read the stored trading
        states, positions and journal, the read model holds its defaults, and a restart
        after a kill showed ``ACTIVE`` (every strategy ACTIVE, the starting cash as funds)
        for a second before ``HALTED``.
        """
        if not self.engine_running and not self._engine_stopped:
            return
        if not self.screen_stack:  # the timer fired after exit popped every screen
            return
        model = self.handle.read_model
        try:
            drawn = self.dashboard.draw(model, self.handle.clock.now_ns(), self.palette, force)
        except NoMatches:  # the timer fired while the screen was being torn down at exit
            return
        if drawn and model.version != self._last_version:
            self.refresh_count += 1
        self._last_version = model.version
        if drawn and isinstance(self.screen, Dialog):
            self.screen.refresh_backdrop(older_than=BACKDROP_REDRAW_S)
        self._watch_pinned_alerts()
        self._watch_session()

    def _watch_pinned_alerts(self) -> None:
        """Show the acknowledge key in the footer only while a CRITICAL alert is pinned."""
        pinned = len(self.handle.read_model.alert_book.pinned)
        if bool(pinned) != bool(self._pinned_alerts):
            self.refresh_bindings()
        self._pinned_alerts = pinned

    def _watch_session(self) -> None:
        """Live: open the login modal when the console starts logged out or the session ends."""
        if not self.handle.venue.has_session or not self.engine_running:
            return
        session = self.handle.read_model.session
        now = self.handle.clock.now_ns()
        logged_in = session.user is not None and (session.expiry_ts or 0) > now
        if self._logged_in is not False and not logged_in:
            self._open_login("The Zerodha session ended: log in again. Trading stays halted.")
        self._logged_in = logged_in

    def _open_login(self, reason: str = "") -> None:
        venue = self.handle.venue
        if not venue.has_session or any(isinstance(s, LoginScreen) for s in self.screen_stack):
            return
        screen = LoginScreen(venue, self.handle.clock.now_ns, reason)
        self.push_screen(screen, self._login_done)

    def _login_done(self, info: object) -> None:
        if info is not None:
            self.notify("Logged in. Trading stays HALTED until you press r and confirm.")
            self.refresh_from_model()

    # -- actions --------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Zerodha login only exists in live mode: hidden from the paper footer."""
        if action == "login" and self.handle.mode != "live":
            return False
        if action == "acknowledge_alerts":
            return bool(self.handle.read_model.alert_book.pinned)
        if action in _DASHBOARD_ONLY and isinstance(self.screen, BookScreen):
            return False  # h would halt a strategy selected on a screen the trader cannot see
        if action == "orders_book" and isinstance(self.screen, OrdersBookScreen):
            return False  # already open: the footer's room goes to the book's own keys
        return super().check_action(action, parameters)  # the replay keys: on a replay only

    def action_kill_switch(self) -> None:
        if isinstance(self.screen, KillConfirmScreen):
            raise SkipAction()
        model = self.handle.read_model
        positions = sum(1 for p in model.positions.values() if p.net_quantity)
        screen = KillConfirmScreen(
            self.handle.mode, len(model.open_orders()), positions, on_choice=self._kill_chosen
        )
        self.push_screen(screen)

    def _kill_chosen(self, choice: KillChoice | None) -> None:
        """Called in the key handler of the dialog: the halt is in force when this returns.

        ``halt_now`` sets HALTED synchronously (risk and execution refuse from the next
        order on; the read model has the change when it returns) and the header and
        strategies are redrawn here rather than at the next refresh; publishing,
        persisting, the audit and cancelling run in the worker. The console only reads the
        read model: the engine's controls change it.
        """
        if choice is None:
            self.notify("Kill switch cancelled: nothing changed")
            return
        flatten = choice is KillChoice.FLATTEN
        if self.handle.controls.halt_now(operator=self.operator):  # False: halted, or not running
            self.draw_trading_state()
        self.run_worker(self._kill(flatten), name="Kill switch", group="control")

    def draw_trading_state(self) -> None:
        """Redraw what shows the trading state (header, strategies) now, off the timer; an open
        dialog's dimmed copy too (the ticket's), not at its once-a-second redraw."""
        model = self.handle.read_model
        try:
            self.dashboard.draw_section(TRADING, model, self.handle.clock.now_ns(), self.palette)
        except NoMatches:  # tearing down
            return
        for dialog in (s for s in self.screen_stack if isinstance(s, Dialog)):
            dialog.refresh_backdrop()

    async def _kill(self, flatten: bool) -> None:
        await self.handle.controls.kill(flatten=flatten, operator=self.operator)
        self.draw_trading_state()

    def action_acknowledge_alerts(self) -> None:
        """Unpin the CRITICAL alerts the operator has read; recorded in the audit channel."""
        acknowledged = self.handle.read_model.acknowledge_alerts()
        if not acknowledged:
            self.notify("No pinned alerts to acknowledge")
            return
        self.refresh_from_model()
        detail = acknowledgement_detail(acknowledged)  # a restart reads which were read
        record = getattr(self.handle, "record_audit", None)
        if record is not None:  # the audit table, which also writes the audit channel
            work = record(ACKNOWLEDGE, detail, operator=self.operator)
            self.run_worker(work, name="Acknowledge alerts", group="control")
        else:  # no store here (an attached console): the audit channel only
            audit_log.info(
                "alerts acknowledged",
                extra={"actor": self.operator, "action": "alerts.acknowledge", **detail},
            )
        share = getattr(self.handle, "share_acknowledgement", None)
        if share is not None:  # on a cluster: every console unpins them, and later ones too
            self.run_worker(
                share(acknowledged, self.operator), name="Share acknowledgement", group="control"
            )
        self.notify(f"{len(acknowledged)} pinned alert(s) acknowledged")

    def action_login(self) -> None:
        if not self.handle.venue.has_session:
            self.notify("Zerodha login is for live mode (ALPHAPANDA_MODE=live)")
            return
        self._open_login()

    def action_sync_instruments(self) -> None:
        """Live: today's instruments dump into the store, with progress in a modal."""
        if self.screen is not self.dashboard:
            raise SkipAction()  # not over another dialog (the palette closes itself first)
        venue = self.handle.venue
        if not venue.has_session:
            self.notify(
                f"{venue.no_session_reason} From a shell: `alphapanda instruments sync`.",
                title="Sync instruments",
                severity="warning",
            )
            return
        self.push_screen(InstrumentSyncScreen(venue))

    def action_resume(self) -> None:
        model = self.handle.read_model
        if model.global_state is TradingMode.ACTIVE:
            self.notify("Trading is already ACTIVE")
            return
        if self.handle.venue.has_session:  # the checklist is the confirmation before real orders
            self.run_worker(self._live_prechecks(), name="Pre-trading checks", group="control")
            return
        question = f"Trading is {model.global_state.value}. Resume sending new orders?"
        note = self._loss_resume_note()
        if note is not None:
            question = f"Trading is {model.global_state.value}. {note} Resume?"
        confirm = ConfirmScreen("Resume trading", question, "Resume")
        self.push_screen(confirm, self._resume_chosen)

    async def _live_prechecks(self) -> None:
        results = await self.handle.venue.prechecks()
        state = self.handle.read_model.global_state.value
        self.push_screen(PrecheckScreen(results, state), self._resume_chosen)

    def _loss_resume_note(self) -> str | None:
        """While today's daily-loss halt holds: the limit is breached and resuming
        gives REDUCING (risk enforces it and the header says it)."""
        model = self.handle.read_model
        reason = model.trading_reasons.get(GLOBAL_SCOPE, "")
        pnl = model.pnl
        today = pnl.trading_day if pnl is not None else ""
        day_pnl = rupees(pnl.day_pnl) if pnl is not None else None
        return resume_note(reason, today, day_pnl)

    def _resume_chosen(self, confirmed: bool | None) -> None:
        if confirmed:
            resume = self.handle.controls.resume(None, operator=self.operator)
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
            await self.handle.controls.halt(strategy, operator=self.operator)
            self.draw_trading_state()
        else:
            await self.handle.controls.resume(strategy, operator=self.operator)
        self.notify(f"{'Halt' if halt else 'Resume'} sent for {strategy}")

    def action_toggle_logs(self) -> None:
        if self.screen is not self.dashboard:
            raise SkipAction()
        self.dashboard.toggle_logs()
        self.refresh_from_model()

    def action_orders_book(self) -> None:
        self._open_book(OrdersBookScreen)

    def action_trade_book(self) -> None:
        self._open_book(TradeBookScreen)

    def _open_book(self, kind: type[BookScreen]) -> None:
        """One book at a time over the dashboard: o and t switch between them."""
        if isinstance(self.screen, kind):
            return
        if isinstance(self.screen, BookScreen):
            self.pop_screen()
        model, now = self.handle.read_model, self.handle.clock.now_ns
        if kind is OrdersBookScreen:
            modifier = OrderModifier(self.handle, self.operator)
            self.push_screen(
                OrdersBookScreen(model, now, self.palette, self._cancel_order, modifier)
            )
        else:
            self.push_screen(kind(model, now, self.palette))

    async def _cancel_order(self, order: OrderUpdate) -> None:
        """The orders book's x, confirmed: the engine's operator cancel (a control command
        through execution, which checks the order against its own journal)."""
        record = project(OrderRecord, order, signal_id="", updated_ts=order.update_ts)
        await self.handle.controls.cancel_order(record, order.client_order_id, self.operator)
        audit_log.info(
            "order cancel requested",
            extra={
                "actor": self.operator,
                "action": "order.cancel",
                "client_order_id": order.client_order_id,
            },
        )
        self.notify(f"Cancel sent for {order.client_order_id}.")

    def action_order_ticket(self, side: str) -> None:
        """b / s: the order ticket, over the dashboard or a book, never over another dialog."""
        if isinstance(self.screen, Dialog):
            raise SkipAction()
        self.push_screen(ticket_for(self.handle, Side(side), self.operator))

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
    handle: EngineHandle,
    *,
    refresh_hz: float = 10.0,
    operator: str | None = None,
    theme: str | None = None,
) -> AlphaPandaApp:
    """The console for ``handle``; tests and the CLI build it the same way.

    ``operator`` is stamped on control commands (default: ``user@host`` of this process);
    ``refresh_hz`` and ``theme`` come from ``ALPHAPANDA_UI__*``.
    """
    return AlphaPandaApp(handle, refresh_hz=refresh_hz, operator=operator, theme=theme)
