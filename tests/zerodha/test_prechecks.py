"""Pre-trading checks: live trading may go ACTIVE only when every check passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from engine.clock import IST, NS_PER_S, ManualClock, datetime_to_ns
from engine.market.calendar import NseCalendar
from engine.zerodha.prechecks import (
    CheckResult,
    LiveReadiness,
    NotReadyForLive,
    require_ready,
    run_prechecks,
)

WEDNESDAY_10AM = datetime_to_ns(datetime(2026, 11, 25, 10, 0, tzinfo=IST))


def _ready() -> LiveReadiness:
    return LiveReadiness(
        token_expires_ns=lambda: WEDNESDAY_10AM + 20 * 3600 * NS_PER_S,
        instruments_synced_on=lambda: date(2026, 11, 25),
        feed_connected=lambda: True,
        feed_last_tick_ns=lambda: WEDNESDAY_10AM - 2 * NS_PER_S,
        risk_limits_configured=lambda: True,
        healthy=lambda: [CheckResult("database", True, "ok"), CheckResult("bus", True, "ok")],
    )


def _check(probes: LiveReadiness, at: int = WEDNESDAY_10AM) -> dict[str, CheckResult]:
    results = run_prechecks(probes, calendar=NseCalendar(), clock=ManualClock(at))
    return {r.name: r for r in results}


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
    results = _check(replace(_ready(), **change))
    assert not results[name].ok and why in results[name].reason
    with pytest.raises(NotReadyForLive, match=why):
        require_ready(list(results.values()))


def test_market_closed_on_a_holiday_and_after_hours() -> None:
    after_close = datetime_to_ns(datetime(2026, 11, 25, 15, 45, tzinfo=IST))
    assert not _check(_ready(), at=after_close)["market"].ok
    holiday = run_prechecks(
        _ready(),
        calendar=NseCalendar(holidays=[date(2026, 11, 25)]),
        clock=ManualClock(WEDNESDAY_10AM),
    )
    market = next(r for r in holiday if r.name == "market")
    assert not market.ok and "holiday" in market.reason


def test_a_probe_that_raises_fails_its_check_instead_of_crashing() -> None:
    def broken() -> bool:
        raise ConnectionError("ticker gone")

    results = _check(replace(_ready(), feed_connected=broken))
    assert not results["feed"].ok and "ticker gone" in results["feed"].reason
