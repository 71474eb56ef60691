"""Checks that must all pass before live trading may go ACTIVE.

Live money should not start flowing on a stale token, yesterday's instruments, a dead
feed, a closed market or unset risk limits. Each check answers (name, ok, reason) so
the console can show exactly what blocks trading; ``require_ready`` refuses ACTIVE
while any check fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from engine.clock import IST, NS_PER_S, Clock, ns_to_datetime
from engine.market.calendar import NseCalendar


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    reason: str


class NotReadyForLive(RuntimeError):
    """Live trading may not go ACTIVE; the message lists every failing check."""

    def __init__(self, failed: list[CheckResult]) -> None:
        self.failed = failed
        super().__init__(
            "live trading stays off: " + "; ".join(f"{c.name}: {c.reason}" for c in failed)
        )


@dataclass(frozen=True, slots=True)
class LiveReadiness:
    """Probes of the running system; each returns a fact, the checks judge it.

    ``token_expires_ns``: None when logged out. ``instruments_synced_on``: the IST date
    of the last sync. ``feed_last_tick_ns``: wall time of the newest tick, None if none.
    ``healthy``: extra probes such as database and bus, as (name, ok, reason).
    """

    token_expires_ns: Callable[[], int | None]
    instruments_synced_on: Callable[[], date | None]
    feed_connected: Callable[[], bool]
    feed_last_tick_ns: Callable[[], int | None]
    risk_limits_configured: Callable[[], bool]
    healthy: Callable[[], list[CheckResult]] = lambda: []


def run_prechecks(
    probes: LiveReadiness,
    *,
    calendar: NseCalendar,
    clock: Clock,
    feed_stale_after_s: float = 10.0,
) -> list[CheckResult]:
    """Every check, in the order a trader would fix them; probes that raise count as failed."""
    now = clock.now_ns()
    results = [
        _guard("token", lambda: _token(probes, now)),
        _guard("instruments", lambda: _instruments(probes, now)),
        _guard("feed", lambda: _feed(probes, now, feed_stale_after_s)),
        _guard("market", lambda: _market(calendar, now)),
        _guard("risk limits", lambda: _risk(probes)),
    ]
    try:
        results.extend(probes.healthy())
    except Exception as exc:
        results.append(CheckResult("health", False, f"health probe failed: {exc}"))
    return results


def require_ready(results: list[CheckResult]) -> None:
    """Raise ``NotReadyForLive`` unless every check passed."""
    failed = [r for r in results if not r.ok]
    if failed:
        raise NotReadyForLive(failed)


def _guard(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    try:
        return check()
    except Exception as exc:
        return CheckResult(name, False, f"could not check: {type(exc).__name__}: {exc}")


def _token(probes: LiveReadiness, now: int) -> CheckResult:
    expires = probes.token_expires_ns()
    if expires is None:
        return CheckResult("token", False, "not logged in: run `alphapanda login`")
    if expires <= now:
        return CheckResult("token", False, "the token expired at 06:00 IST: log in again")
    left = (expires - now) // NS_PER_S
    return CheckResult("token", True, f"valid for {left // 3600}h{left % 3600 // 60:02d}m")


def _instruments(probes: LiveReadiness, now: int) -> CheckResult:
    synced = probes.instruments_synced_on()
    today = ns_to_datetime(now, IST).date()
    if synced is None:
        return CheckResult("instruments", False, "never synced: run `alphapanda instruments sync`")
    if synced < today:
        return CheckResult(
            "instruments", False, f"last synced {synced}: run `alphapanda instruments sync`"
        )
    return CheckResult("instruments", True, f"synced {synced}")


def _feed(probes: LiveReadiness, now: int, stale_after_s: float) -> CheckResult:
    if not probes.feed_connected():
        return CheckResult("feed", False, "the Kite ticker is not connected")
    last = probes.feed_last_tick_ns()
    if last is None:
        return CheckResult("feed", False, "connected but no tick received yet")
    age = (now - last) / NS_PER_S
    if age > stale_after_s:
        return CheckResult(
            "feed", False, f"no tick for {age:.0f}s (stale after {stale_after_s:g}s)"
        )
    return CheckResult("feed", True, f"last tick {age:.1f}s ago")


def _market(calendar: NseCalendar, now: int) -> CheckResult:
    status = calendar.status(now)
    if calendar.is_open(now):
        return CheckResult("market", True, "NSE is open")
    return CheckResult("market", False, f"NSE is {status.value.lower()} now")


def _risk(probes: LiveReadiness) -> CheckResult:
    if probes.risk_limits_configured():
        return CheckResult("risk limits", True, "configured")
    return CheckResult("risk limits", False, "risk limits are not configured")
