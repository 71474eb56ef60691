"""``LoginScreen``: today's Zerodha login, or a token refresh, without leaving the console.

Kite allows no programmatic login, so the trader opens the login URL on any device,
signs in and pastes back the address Zerodha redirects to (or its ``request_token``).
The exchange runs in a worker; errors are shown in words and the modal stays open for
another try. The access token is never shown: only who logged in and until when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from engine.clock import IST, ns_to_datetime
from engine.venue import VenueSession
from engine.zerodha.session import LoginError
from screens.dialog import Dialog


class LoginFlow(Protocol):
    """What the modal needs of the venue (``engine.venue.Venue``)."""

    def login_url(self) -> str: ...

    async def login(self, pasted: str) -> VenueSession: ...


def describe_session(info: VenueSession, now_ns: int) -> str:
    """``Logged in as Asha Trader (AB1234) · valid until 06:00 IST Thu 16 Jan (5h12m)``."""
    until = ns_to_datetime(info.expires_ts, IST).strftime("%H:%M IST %a %d %b")
    left = int(info.seconds_left(now_ns))
    return (
        f"Logged in as {info.user_name} ({info.user_id}) · valid until {until} "
        f"({left // 3600}h{left % 3600 // 60:02d}m)"
    )


class LoginScreen(Dialog[VenueSession | None]):
    """Dismisses with the new session after a successful login, else None."""

    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    #login-dialog {
        width: 100; max-width: 100%; height: auto;
        border: thick $error; background: $surface; padding: 0 1;
    }
    #login-dialog Static { margin: 1 0 0 0; }
    #login-url { color: $accent; text-style: bold; }
    #login-status.error { color: $error; text-style: bold; }
    #login-status.ok { color: $success; text-style: bold; }
    #login-buttons { height: auto; align: center middle; margin-top: 1; }
    #login-buttons Button { margin: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="login.close"),
        Binding("ctrl+y", "copy_url", "Copy URL", id="login.copy"),
    ]

    def __init__(self, flow: LoginFlow, now_ns: Callable[[], int], reason: str = "") -> None:
        super().__init__()
        self.flow = flow
        self.now_ns = now_ns
        self.reason = reason
        self.url = flow.login_url()
        self.session: VenueSession | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="login-dialog"):
            yield Static("ZERODHA LOGIN · LIVE", id="dialog-title")
            if self.reason:
                yield Static(self.reason, id="login-reason")
            yield Static("1. Open this URL on any device and sign in (ctrl+y copies it):")
            yield Static(self.url, id="login-url", markup=False)
            yield Static("2. Paste the address Zerodha sent you to (or its request_token):")
            yield Input(placeholder="https://…/?request_token=…&status=success", id="login-paste")
            yield Static("", id="login-status")
            with Horizontal(id="login-buttons"):
                yield Button("Log in", id="login-submit", variant="primary")
                yield Button("Close (Esc)", id="login-close")

    def on_mount(self) -> None:
        self.query_one("#login-paste", Input).focus()

    # -- actions ---------------------------------------------------------------------
    def action_copy_url(self) -> None:
        self.app.copy_to_clipboard(self.url)
        self.notify("Login URL copied to the clipboard")

    def action_close(self) -> None:
        self.dismiss(self.session)

    @on(Button.Pressed, "#login-close")
    def close_pressed(self) -> None:
        self.dismiss(self.session)

    @on(Button.Pressed, "#login-submit")
    @on(Input.Submitted, "#login-paste")
    def submit(self) -> None:
        if self.busy:
            return
        pasted = self.query_one("#login-paste", Input).value
        if not pasted.strip():
            self._status("Paste the redirect URL or the request_token first.", "error")
            return
        self.busy = True
        self._status("Exchanging the token with Zerodha…", "")
        self.exchange(pasted)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def exchange(self, pasted: str) -> None:
        try:
            info = await self.flow.login(pasted)
        except LoginError as exc:
            self._status(f"Login failed: {exc}", "error")
        except Exception as exc:  # never crash the console on a broker hiccup
            self._status(f"Login failed: {type(exc).__name__}: {exc}", "error")
        else:
            self.session = info
            self.query_one("#login-paste", Input).value = ""  # one-use token: not kept on screen
            self._status(
                describe_session(info, self.now_ns())
                + "\nTrading stays HALTED: press r to run the pre-trading checks and resume.",
                "ok",
            )
            self.query_one("#login-close", Button).label = "Done (Esc)"
            self.query_one("#login-close", Button).focus()
        finally:
            self.busy = False

    def _status(self, text: str, kind: str) -> None:
        status = self.query_one("#login-status", Static)
        status.update(text)
        status.set_class(kind == "error", "error")
        status.set_class(kind == "ok", "ok")
