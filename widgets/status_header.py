"""The header: mode (PAPER / LIVE), trading state, Zerodha session, market and IST clock.

LIVE is reverse $error and HALTED reads HALTED: a trader on a monochrome terminal
still cannot mistake live trading or a halted engine.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from engine.clock import IST, NS_PER_S, ns_to_datetime
from engine.read_model.model import MARKET, SESSION, TRADING
from widgets.formatting import duration
from widgets.panel import Frame

_STATE_MARKUP = {
    "ACTIVE": "reverse bold $success",
    "REDUCING": "reverse bold $warning",
    "HALTED": "reverse bold $error",
}
EXPIRY_WARNING_S = 30 * 60  # the session countdown turns warning-coloured this close to 06:00


class StatusHeader(Static):
    """Redrawn when state, session or market change, and once a second for the clock."""

    SECTIONS = (TRADING, SESSION, MARKET)

    def __init__(self, mode: str, broker: str, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.mode = mode
        self.broker = broker
        self.line = ""

    def show(self, frame: Frame) -> None:
        model = frame.model
        live = self.mode == "live"
        mode_style = "reverse bold $error" if live else "reverse bold $primary"
        state = model.global_state.value
        reason = model.trading_reasons.get("global", "")
        session = model.session
        session_style = ""
        if session.user is None or session.expiry_ts is None:
            session_text = "not logged in"
        elif session.expiry_ts <= frame.now_ns:
            session_text = f"{session.user} · session EXPIRED"
            session_style = "reverse bold $error"
        else:
            seconds_left = (session.expiry_ts - frame.now_ns) / NS_PER_S
            session_text = f"{session.user} · {duration(seconds_left)} left"
            if seconds_left <= EXPIRY_WARNING_S:
                session_style = "reverse bold $warning"
        clock = ns_to_datetime(frame.now_ns, IST).strftime("%H:%M:%S IST")
        parts = [
            Content.from_markup(f"[{mode_style}] $mode [/]", mode=self.mode.upper()),
            Content(" "),
            Content.from_markup(f"[{_STATE_MARKUP[state]}] $state [/]", state=state),
            Content(f"  {clock}  Zerodha: "),
            Content.from_markup(f"[{session_style}]$session[/]", session=session_text)
            if session_style
            else Content(session_text),
            Content(f"  Market: {model.market_status}"),
            Content.from_markup("[dim]  ($why)[/]", why=reason) if reason else Content(""),
        ]
        line = Content("").join(parts)
        if line.plain != self.line:
            self.line = line.plain
            self.update(line, layout=False)  # one line, full width: a layout pass is wasted
