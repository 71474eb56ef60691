"""An alert on the simulated market shows the event's own time.

Seen in the console: the 15:15 MIS square-off alert read 15:14, the time of the newest
tick the console had drawn (the tick that raised it was still on its way).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from engine.clock import IST, datetime_to_ns
from engine.events import topics
from engine.events.payloads import RiskAlert, Tick
from engine.events.types import EventType, Severity
from engine.market.calendar import NseCalendar
from engine.read_model.run_clock import RunClock
from tests.tui.harness import BusHarness
from tests.tui.test_no_color import screen_text
from tests.tui.test_screen_truth import _console

LAST_TICK = datetime_to_ns(datetime(2025, 1, 15, 15, 14, 30, tzinfo=IST))
SQUARE_OFF = datetime_to_ns(datetime(2025, 1, 15, 15, 15, tzinfo=IST))


async def test_the_square_off_alert_shows_its_own_time_not_the_last_ticks() -> None:
    clock = RunClock(label="SIM", calendar=NseCalendar(), stale_after_s=3600.0)
    async with _console(BusHarness(run_clock=clock), (120, 40)) as console:
        harness = console.harness
        last = Tick(
            instrument_token=408065,
            symbol="NSE:INFY",
            last_price=Decimal("1500"),
            exchange_ts=LAST_TICK,
        )
        await harness.publish(topics.MARKET_TICKS, EventType.MARKET_TICK, last)
        await console.settle()
        alert = RiskAlert(
            severity=Severity.WARNING,
            rule="mis_square_off",
            message="MIS position squared off at 15:15",
            broker=harness.broker,
            strategy="momentum",
            symbol="NSE:INFY",
            alert_ts=SQUARE_OFF,
        )
        await harness.publish(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert)
        await console.settle()
        lines = [line for line in screen_text(console.app).splitlines() if "mis_square_off" in line]
        assert lines and "15:15:00" in lines[0], lines
        assert "15:14:30" not in lines[0]
