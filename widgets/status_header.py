"""The header: mode (PAPER / LIVE), trading state, run's clock, market, a silent feed,
session, day P&L.

LIVE is reverse $error and HALTED reads HALTED: a trader on a monochrome terminal
still cannot mistake live trading or a halted engine. The clock is the run's clock
(marked SIM, with its date, on the simulated market; REPLAY with the replayed day's
date, speed and pause on a replay) and the market status comes from the trading calendar
at that clock. What does not fit on the first line (the session,
the reason for the state, a pinned CRITICAL alert) goes to the next line rather than
being cut, so a screen too short for the alerts panel still shows the alarm.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from engine.clock import NS_PER_S
from engine.market.feeds.paced_replay import ReplayStatus, speed_text
from engine.read_model.model import ALERTS, FEED, MARKET, PNL, POSITIONS, SESSION, TRADING
from engine.trading_state.state import GLOBAL_SCOPE
from widgets.formatting import clock_text, duration, run_time, signed_amount
from widgets.panel import Frame

_STATE_MARKUP = {
    "ACTIVE": "reverse bold $success",
    "REDUCING": "reverse bold $warning",
    "HALTED": "reverse bold $error",
}
EXPIRY_WARNING_S = 30 * 60  # the session countdown turns warning-coloured this close to 06:00
GAP = Content("  ")
MAX_LINES = 3  # the first line; the session and the reason; a pinned CRITICAL alert


_REPLAY_MARKUP = {
    "PLAYING": "bold $success",
    "PAUSED": "reverse bold $warning",
    "ENDED": "reverse bold $primary",
}


def replay_part(replay: ReplayStatus) -> Content:
    """``PAUSED 10x space play · . step · +/- speed``: a replay's state and its keys (an
    ended replay has nothing left to steer)."""
    state = replay.state
    if replay.ended:
        return Content.from_markup(f"[{_REPLAY_MARKUP[state]}] $state [/]", state=state)
    keys = "space play" if replay.paused else "space pause"
    return Content.from_markup(
        f"[{_REPLAY_MARKUP[state]}] $state $speed [/] [dim]$keys · . step · +/- speed[/]",
        state=state,
        speed=speed_text(replay.speed),
        keys=keys,
    )


def stale_feed_part(frame: Frame) -> Content | None:
    """``FEED STALE 35s`` (no tick for 35 s): the market is open at the run's clock and no tick
    has arrived for longer than the feed-silence limit, so every figure on screen is as
    of the last tick. An attached console hears nothing more when the engine dies or the
    broker stops; its clock, P&L and health rows would otherwise read as live. None before
    the first tick and while the market is not open (no ticks are due then)."""
    model = frame.model
    age = model.feed_age_s()
    if not model.clock.is_stale(age) or model.market_status(frame.now_ns) != "OPEN":
        return None
    assert age is not None  # is_stale says so
    # unpadded, so it still fits the first line beside the SIM clock at 80 columns
    return Content.from_markup("[reverse bold $error]FEED STALE $age[/]", age=duration(age))


def catching_up_part(frame: Frame) -> Content | None:
    """``catching up (lag 5,210)``: an attached console is still reading what the cluster
    published before it came, so its figures are not yet the cluster's latest."""
    lag = frame.model.catching_up()
    if lag is None:
        return None
    return Content.from_markup("[reverse bold $warning]catching up (lag $lag)[/]", lag=f"{lag:,}")


def day_pnl_part(frame: Frame) -> Content | None:
    """``Day P&L -403.94``: the trading day's realized + unrealized mark-to-market on open
    positions − the day's charges, the figure the daily loss limit counts, moved by the
    marks since the last snapshot. It is the frame's account figure, the very one under
    the positions TOTAL and split on the P&L line. None until a snapshot of the run's day
    arrives (a snapshot of yesterday is not today's figure).
    """
    day = frame.account.day_pnl
    if day is None:
        return None
    text = f"Day P&L {signed_amount(day)}"
    style = "$success" if day > 0 else "$error" if day < 0 else ""
    return Content.from_markup(f"[bold {style}]$text[/]", text=text)


class StatusHeader(Static):
    """Redrawn when state, session or market change, when a tick moves the run's clock,
    and once a second for the wall clock."""

    # P&L and positions: the day's P&L moves with the marks, as the P&L line does. The
    # feed: on the simulated market the clock is the newest tick's time, which moves many
    # seconds per wall second in a compressed day; redrawn only once a wall second, the
    # header's clock lagged the prices on the same screen.
    SECTIONS = (TRADING, SESSION, MARKET, ALERTS, PNL, POSITIONS, FEED)

    def __init__(self, mode: str, broker: str, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]  # Static's keywords, passed on
        self.mode = mode
        self.broker = broker
        self.line = ""  # every line of the header as plain text (tests and the CLI read it)
        self._lines = 0

    def show(self, frame: Frame) -> None:
        model = frame.model
        mode_style = "reverse bold $error" if self.mode == "live" else "reverse bold $primary"
        state = model.global_state.value
        first = Content("").join(
            [
                Content.from_markup(f"[{mode_style}] $mode [/]", mode=self.mode.upper()),
                Content(" "),
                Content.from_markup(f"[{_STATE_MARKUP[state]}] $state [/]", state=state),
                Content(f"  {clock_text(frame.run_ns, model.clock.label)}"),
                Content(f"  Market: {model.market_status(frame.now_ns)}"),
            ]
        )
        width = self.size.width
        extras = self._extras(frame)
        day = day_pnl_part(frame)
        if day is not None:  # last: it never moves a replay's keys, a reason or an alarm
            extras.append(day)
        lines = [first]
        for part in extras:
            line = lines[-1]
            if not width or line.cell_length + GAP.cell_length + part.cell_length <= width:
                lines[-1] = Content("").join([line, GAP, part]) if line.plain else part
            elif len(lines) < MAX_LINES:
                lines.append(part)
            else:
                lines[-1] = Content("").join([line, GAP, part])
        text = Content("\n").join(lines)
        if text.plain != self.line:
            self.line = text.plain
            self.update(text, layout=len(lines) != self._lines)  # a second line: re-layout
            self._lines = len(lines)

    def _extras(self, frame: Frame) -> list[Content]:
        """A silent feed, the Zerodha session (live only: paper trades no account) and the
        state's reason."""
        model = frame.model
        parts: list[Content] = []
        if model.replay is not None:
            parts.append(replay_part(model.replay))
        stale = stale_feed_part(frame)
        if stale is not None:
            parts.append(stale)
        catching_up = catching_up_part(frame)
        if catching_up is not None:
            parts.append(catching_up)
        if self.mode == "live":
            parts.append(Content("Zerodha: ") + self._session(frame))
        reason = model.trading_reasons.get(GLOBAL_SCOPE, "")
        if reason:
            parts.append(Content.from_markup("[dim]($why)[/]", why=reason))
        pinned = self._pinned(frame)
        if pinned is not None:
            parts.append(pinned)
        return parts

    def _pinned(self, frame: Frame) -> Content | None:
        """The newest CRITICAL alert awaiting acknowledgement, so a screen too short for
        the alerts panel still shows it: its time and rule, how many more, and the key."""
        pinned = frame.model.alert_book.pinned
        if not pinned:
            return None
        newest = pinned[0]
        when = run_time(newest.last_ts, frame.today)
        more = f" +{len(pinned) - 1}" if len(pinned) > 1 else ""
        return Content.from_markup(
            "[reverse bold $error] ▲ CRITICAL [/] $when $rule$more [dim]a ack[/]",
            when=when,
            rule=newest.alert.rule,
            more=more,
        )

    def _session(self, frame: Frame) -> Content:
        session = frame.model.session
        if session.user is None or session.expiry_ts is None:
            return Content("not logged in")
        if session.expiry_ts <= frame.now_ns:
            text, style = f"{session.user} · session EXPIRED", "reverse bold $error"
        else:
            seconds_left = (session.expiry_ts - frame.now_ns) / NS_PER_S
            text = f"{session.user} · {duration(seconds_left)} left"
            style = "reverse bold $warning" if seconds_left <= EXPIRY_WARNING_S else ""
        if not style:
            return Content(text)
        return Content.from_markup(f"[{style}]$session[/]", session=text)
