"""Zerodha's own pre-trading checks: a live token, today's instruments, a fresh ticker.

They run in front of the venue-agnostic checks (``engine.prechecks``: market, risk
limits, database, bus). Each answers (name, ok, reason) with the fix in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from engine.clock import IST, NS_PER_S, ns_to_datetime
from engine.prechecks import CheckResult, guard


@dataclass(frozen=True, slots=True)
class ZerodhaReadiness:
    """Probes of the Zerodha session; each returns a fact, the checks judge it.

    ``token_expires_ns``: None when logged out. ``instruments_synced_on``: the IST date
    of the last sync. ``feed_last_tick_ns``: wall time of the newest tick, None if none.
    Called with a time (ns), it runs the checks: ``engine.prechecks.VenueChecks``.
    """

    token_expires_ns: Callable[[], int | None]
    instruments_synced_on: Callable[[], date | None]
    feed_connected: Callable[[], bool]
    feed_last_tick_ns: Callable[[], int | None]
    feed_stale_after_s: float = 10.0

    def __call__(self, now: int) -> list[CheckResult]:
        return [
            guard("token", lambda: _token(self, now)),
            guard("instruments", lambda: _instruments(self, now)),
            guard("feed", lambda: _feed(self, now)),
        ]


def _token(probes: ZerodhaReadiness, now: int) -> CheckResult:
    expires = probes.token_expires_ns()
    if expires is None:
        return CheckResult("token", False, "not logged in: run `alphapanda login`")
    if expires <= now:
        return CheckResult("token", False, "the token expired at 06:00 IST: log in again")
    left = (expires - now) // NS_PER_S
    return CheckResult("token", True, f"valid for {left // 3600}h{left % 3600 // 60:02d}m")


def _instruments(probes: ZerodhaReadiness, now: int) -> CheckResult:
    synced = probes.instruments_synced_on()
    today = ns_to_datetime(now, IST).date()
    if synced is None:
        return CheckResult("instruments", False, "never synced: run `alphapanda instruments sync`")
    if synced < today:
        return CheckResult(
            "instruments", False, f"last synced {synced}: run `alphapanda instruments sync`"
        )
    return CheckResult("instruments", True, f"synced {synced}")


def _feed(probes: ZerodhaReadiness, now: int) -> CheckResult:
    if not probes.feed_connected():
        return CheckResult("feed", False, "the Kite ticker is not connected")
    last = probes.feed_last_tick_ns()
    if last is None:
        return CheckResult("feed", False, "connected but no tick received yet")
    age = (now - last) / NS_PER_S
    stale_after_s = probes.feed_stale_after_s
    if age > stale_after_s:
        return CheckResult(
            "feed", False, f"no tick for {age:.0f}s (stale after {stale_after_s:g}s)"
        )
    return CheckResult("feed", True, f"last tick {age:.1f}s ago")
