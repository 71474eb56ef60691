"""Pre-trading checks every venue shares: market open, risk limits, database and bus.

Live money should not start flowing into a closed market, with unset risk limits or on
a sick database or bus, whichever broker takes the orders. Each check answers (name,
ok, reason) so the console can show exactly what blocks trading; ``require_ready``
refuses ACTIVE while any check fails. A venue puts its own checks (a Zerodha token,
today's instruments, its ticker) in front of these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from engine.clock import Clock
from engine.events.payloads import ComponentHealth
from engine.events.types import ComponentStatus
from engine.market.calendar import NseCalendar

HealthProbe = Callable[[], Awaitable[ComponentHealth] | ComponentHealth]
VenueChecks = Callable[[int], list["CheckResult"]]  # the venue's own checks at a time (ns)


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
class Readiness:
    """Venue-agnostic probes; each returns a fact, the checks judge it.

    ``healthy``: probes such as database and bus, already judged as (name, ok, reason).
    """

    risk_limits_configured: Callable[[], bool]
    healthy: Callable[[], list[CheckResult]] = lambda: []


def run_prechecks(
    probes: Readiness,
    *,
    calendar: NseCalendar,
    clock: Clock,
    venue_checks: VenueChecks = lambda now: [],
) -> list[CheckResult]:
    """Every check, in the order a trader would fix them: the venue's first, then the
    market, the risk limits and the health probes. Probes that raise count as failed."""
    now = clock.now_ns()
    results = [
        *venue_checks(now),
        guard("market", lambda: _market(calendar, now)),
        guard("risk limits", lambda: _risk(probes)),
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


def guard(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """``check()``, or a failed ``name`` check saying why it could not run."""
    try:
        return check()
    except Exception as exc:
        return CheckResult(name, False, f"could not check: {type(exc).__name__}: {exc}")


async def probe_health(probes: Sequence[HealthProbe]) -> list[CheckResult]:
    """Each health probe (sync or async) as a check; a probe that raises fails its own."""
    return [await _probe(probe) for probe in probes]


async def _probe(probe: HealthProbe) -> CheckResult:
    try:
        result = probe()
        health = await result if asyncio.iscoroutine(result) else result
    except Exception as exc:
        return CheckResult("health", False, f"probe failed: {type(exc).__name__}: {exc}")
    assert isinstance(health, ComponentHealth)
    ok = health.status is ComponentStatus.RUNNING
    reason = health.detail if ok else f"{health.status.value}: {health.detail}"
    return CheckResult(health.name, ok, reason)


def _market(calendar: NseCalendar, now: int) -> CheckResult:
    status = calendar.status(now)
    if calendar.is_open(now):
        return CheckResult("market", True, "NSE is open")
    return CheckResult("market", False, f"NSE is {status.value.lower()} now")


def _risk(probes: Readiness) -> CheckResult:
    if probes.risk_limits_configured():
        return CheckResult("risk limits", True, "configured")
    return CheckResult("risk limits", False, "risk limits are not configured")
