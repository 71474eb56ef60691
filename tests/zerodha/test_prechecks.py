"""Pre-trading checks: live trading may go ACTIVE only when every check passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from engine.clock import IST, NS_PER_S, ManualClock, datetime_to_ns
from engine.market.calendar import NseCalendar
from engine.prechecks import CheckResult, NotReadyForLive, Readiness, require_ready, run_prechecks
from engine.zerodha.prechecks import ZerodhaReadiness

WEDNESDAY_10AM = datetime_to_ns(datetime(2026, 11, 25, 10, 0, tzinfo=IST))


Probes = tuple[ZerodhaReadiness, Readiness]  # Zerodha's own, then the venue-agnostic ones


def _ready() -> Probes:
    zerodha = ZerodhaReadiness(
        token_expires_ns=lambda: WEDNESDAY_10AM + 20 * 3600 * NS_PER_S,
        instruments_synced_on=lambda: date(2026, 11, 25),
        feed_connected=lambda: True,
        feed_last_tick_ns=lambda: WEDNESDAY_10AM - 2 * NS_PER_S,
    )
    common = Readiness(
        risk_limits_configured=lambda: True,
        healthy=lambda: [CheckResult("database", True, "ok"), CheckResult("bus", True, "ok")],
    )
    return zerodha, common


def _changed(probes: Probes, **change: object) -> Probes:
    """``probes`` with each changed probe replaced in whichever of the two holds it."""
    zerodha, common = probes
    mine = {k: v for k, v in change.items() if k in ZerodhaReadiness.__dataclass_fields__}
    rest = {k: v for k, v in change.items() if k not in mine}
    return replace(zerodha, **mine), replace(common, **rest)


def _run(probes: Probes, calendar: NseCalendar, at: int) -> list[CheckResult]:
    zerodha, common = probes
    return run_prechecks(common, calendar=calendar, clock=ManualClock(at), venue_checks=zerodha)


def _check(probes: Probes, at: int = WEDNESDAY_10AM) -> dict[str, CheckResult]:
    return {r.name: r for r in _run(probes, NseCalendar(), at)}


def test_all_green_allows_active() -> None:
    results = _check(_ready())
    assert all(r.ok for r in results.values()), results
    assert set(results) == {
        "token",
        "instruments",
        "feed",
        "market",
        "risk limits",
        "database",
        "bus",
    }
    require_ready(list(results.values()))


@pytest.mark.parametrize(
    ("change", "name", "why"),
    [
        ({"token_expires_ns": lambda: None}, "token", "alphapanda login"),
        ({"instruments_synced_on": lambda: date(2026, 11, 24)}, "instruments", "last synced"),
        ({"feed_connected": lambda: False}, "feed", "not connected"),
        ({"feed_last_tick_ns": lambda: WEDNESDAY_10AM - 60 * NS_PER_S}, "feed", "no tick for 60s"),
        ({"risk_limits_configured": lambda: False}, "risk limits", "not configured"),
        ({"healthy": lambda: [CheckResult("database", False, "locked")]}, "database", "locked"),
    ],
)
def test_each_failing_check_blocks_active_with_its_reason(change, name, why) -> None:
    results = _check(_changed(_ready(), **change))
    assert not results[name].ok and why in results[name].reason
    with pytest.raises(NotReadyForLive, match=why):
        require_ready(list(results.values()))


def test_market_closed_on_a_holiday_and_after_hours() -> None:
    after_close = datetime_to_ns(datetime(2026, 11, 25, 15, 45, tzinfo=IST))
    assert not _check(_ready(), at=after_close)["market"].ok
    holiday = _run(_ready(), NseCalendar(holidays=[date(2026, 11, 25)]), WEDNESDAY_10AM)
    market = next(r for r in holiday if r.name == "market")
    assert not market.ok and "holiday" in market.reason


def test_a_probe_that_raises_fails_its_check_instead_of_crashing() -> None:
    def broken() -> bool:
        raise ConnectionError("ticker gone")

    results = _check(_changed(_ready(), feed_connected=broken))
    assert not results["feed"].ok and "ticker gone" in results["feed"].reason
