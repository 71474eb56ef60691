"""The venue seam: what the console and the runtime need of the broker behind execution.

The console asks a venue for login, the instruments sync and the pre-trading checklist
(``Venue``); the runtime also takes its feed, services, adapter and funds check from it
and tells it when execution starts (``TradingVenue``). Paper trading, and a console
attached to a cluster, hold no broker session: ``SessionlessVenue`` says so honestly.
A new broker is one engine package implementing ``TradingVenue``, one composition
module in ``alphapanda_tui.venues`` and a ``Broker`` value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.execution.broker import BrokerAdapter
from engine.execution.funds import FundsCheck
from engine.prechecks import CheckResult
from engine.processing import Service
from engine.trading_state.control import TradingControl
from engine.zerodha.instruments_sync import Progress, SyncResult


class VenueSession(Protocol):
    """Who is logged in at the venue and until when (never the token itself)."""

    @property
    def user_id(self) -> str: ...

    @property
    def user_name(self) -> str: ...

    @property
    def expires_ts(self) -> int: ...

    def seconds_left(self, now_ns: int) -> float: ...


class NoVenueSession(RuntimeError):
    """This process holds no broker session; the message says where to do it instead."""


class Venue(Protocol):
    """The console's side of a venue: login, token state, instruments, checklist."""

    @property
    def has_session(self) -> bool:
        """True where this process holds the broker session: login, the instruments sync
        and the pre-trading checklist run here; the console watches the session end."""
        ...

    @property
    def no_session_reason(self) -> str:
        """Why there is no session here, in words ("" when ``has_session``)."""
        ...

    def login_url(self) -> str: ...

    async def login(self, pasted: str) -> VenueSession:
        """Exchange the pasted redirect; trading stays halted until the operator resumes."""
        ...

    async def sync_instruments(
        self, progress: Progress | None = None, exchanges: Sequence[str] = ("NSE",)
    ) -> SyncResult: ...

    async def prechecks(self) -> list[CheckResult]:
        """Every pre-trading check with its reason, in the order a trader fixes them."""
        ...


class TradingVenue(Venue, Protocol):
    """The runtime's side: the parts the paper engine lacks, and the start hooks."""

    @property
    def feed(self) -> Service | None:
        """The market feed this venue brings (None: the runtime's own feed)."""
        ...

    @property
    def services(self) -> Sequence[Service]:
        """Services that run only where execution runs (one per cluster)."""
        ...

    @property
    def adapter(self) -> BrokerAdapter: ...

    @property
    def funds_check(self) -> FundsCheck | None: ...

    def attach(self, control: TradingControl) -> None: ...

    async def on_started(self, *, runs_execution: bool = True) -> None:
        """The pipeline started; with ``runs_execution``, also ``on_execution_active``."""
        ...

    async def on_execution_active(self) -> None:
        """Execution starts here: halt before any order can leave, then reconcile."""
        ...

    async def require_ready(self) -> None:
        """Raise ``NotReadyForLive`` unless every pre-trading check passes."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionlessVenue:
    """A venue with no broker session in this process; every session call says why."""

    no_session_reason: str
    has_session: bool = False

    def login_url(self) -> str:
        raise NoVenueSession(self.no_session_reason)

    async def login(self, pasted: str) -> VenueSession:
        raise NoVenueSession(self.no_session_reason)

    async def sync_instruments(
        self, progress: Progress | None = None, exchanges: Sequence[str] = ("NSE",)
    ) -> SyncResult:
        raise NoVenueSession(self.no_session_reason)

    async def prechecks(self) -> list[CheckResult]:
        raise NoVenueSession(self.no_session_reason)


PAPER_VENUE = SessionlessVenue(
    "Instruments sync needs a Zerodha login: live mode (ALPHAPANDA_MODE=live)."
)
ATTACHED_VENUE = SessionlessVenue(
    "This console is attached to a cluster and holds no Zerodha session."
)


def sessionless_venue(mode: str) -> SessionlessVenue:
    """Paper's venue, or (live) a console's that does not hold the cluster's session."""
    return ATTACHED_VENUE if mode == "live" else PAPER_VENUE
