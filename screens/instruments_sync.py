"""``InstrumentSyncScreen``: today's Zerodha instruments dump into the database, with progress.

Live trading will not start on yesterday's instruments (contracts expire, tokens are
reused), so the trader can sync from the console instead of a second shell. The sync runs
as a worker on the console's loop, where the store lives; progress arrives as messages,
which any thread may post. The outcome, or why it failed, is shown in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, ProgressBar, Static
from textual.worker import Worker, WorkerState

from engine.zerodha.instruments_sync import Progress, SyncResult, explain_sync_failure
from engine.zerodha.session import LoginError
from screens.dialog import Dialog, dialog_box, dialog_buttons

NOT_LOGGED_IN = "Not logged in to Zerodha: log in first (ctrl+l), then sync again."
SHOWN_ERRORS = 3  # skipped rows listed by line; the rest are counted


class InstrumentSync(Protocol):
    """What the modal needs of the venue (``engine.venue.Venue``)."""

    async def sync_instruments(self, progress: Progress | None = None) -> SyncResult: ...


def describe_result(result: SyncResult) -> str:
    """``Synced 4 instruments (NSE) — 0 rows skipped``, then the first skipped rows."""
    exchanges = ", ".join(result.per_exchange) or "no exchange"
    skipped = len(result.errors)
    lines = [
        f"Synced {result.written:,} instruments ({exchanges}) — "
        f"{skipped:,} row{'' if skipped == 1 else 's'} skipped"
    ]
    lines += [f"skipped {error}" for error in result.errors[:SHOWN_ERRORS]]
    return "\n".join(lines)


class InstrumentSyncScreen(Dialog[SyncResult | None]):
    """Starts the sync when shown; dismisses with what it wrote, or None after a failure."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="instruments.close"),
    ]

    written: reactive[int] = reactive(0)
    """Instruments upserted so far."""
    total: reactive[int | None] = reactive(None)
    """Rows to upsert; None while the dump is still downloading (the bar pulses)."""

    @dataclass
    class Progressed(Message, bubble=False):
        """``done`` of ``total`` rows written; only the latest waits in the queue."""

        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, InstrumentSyncScreen.Progressed)

    def __init__(self, flow: InstrumentSync) -> None:
        super().__init__()
        self.flow = flow
        self.result: SyncResult | None = None
        self.finished = False

    def compose(self) -> ComposeResult:
        with dialog_box("INSTRUMENTS SYNC · LIVE"):
            yield Static(
                "Today's NSE instruments dump from Zerodha into the database.", id="sync-what"
            )
            yield ProgressBar(show_eta=False, id="sync-bar").data_bind(
                progress=InstrumentSyncScreen.written, total=InstrumentSyncScreen.total
            )
            yield Static(
                "Downloading the instruments dump… (Esc closes this when done)",
                id="sync-status",
                markup=False,
            )
            yield dialog_buttons(Button("Close (Esc)", id="sync-close", disabled=True))

    def on_mount(self) -> None:
        self.run_sync()

    @work(exclusive=True, group="instruments", exit_on_error=False)
    async def run_sync(self) -> SyncResult:
        return await self.flow.sync_instruments(progress=self.post_progress)

    def post_progress(self, done: int, total: int) -> None:
        """The sync's progress callback: safe from the loop or from any thread."""
        self.post_message(self.Progressed(done, total))

    # -- what the trader sees -----------------------------------------------------------
    @on(Progressed)
    def show_progress(self, event: Progressed) -> None:
        self.total = event.total
        self.written = event.done
        self._status(f"Writing instruments: {event.done:,} of {event.total:,}…", "")

    @on(Worker.StateChanged)
    def show_outcome(self, event: Worker.StateChanged) -> None:
        """The sync ended: its counts, or why it failed in words; Esc now closes."""
        if event.state is WorkerState.SUCCESS:
            self.result = event.worker.result
            assert self.result is not None
            self.written = self.total = self.result.written
            self._status(describe_result(self.result), "ok")
        elif event.state is WorkerState.ERROR:
            self._status(self._explain(event.worker.error), "error")
        elif event.state is not WorkerState.CANCELLED:
            return
        self.finished = True
        close = self.query_one("#sync-close", Button)
        close.disabled = False
        close.label = "Done (Esc)" if self.result else "Close (Esc)"
        close.focus()

    @staticmethod
    def _explain(error: BaseException | None) -> str:
        if isinstance(error, LoginError):
            return NOT_LOGGED_IN
        if isinstance(error, Exception):
            return explain_sync_failure(error, "log in again (ctrl+l)")
        return f"instruments sync failed: {error}"

    def _status(self, text: str, kind: str) -> None:
        status = self.query_one("#sync-status", Static)
        status.update(text)
        status.set_class(kind == "error", "error")
        status.set_class(kind == "ok", "ok")

    # -- closing ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc waits for the sync to end: closing would cancel it half-written."""
        return self.finished if action == "close" else True

    @on(Button.Pressed, "#sync-close")
    def action_close(self) -> None:
        self.dismiss(self.result)
