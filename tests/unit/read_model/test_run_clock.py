"""The read model's run clock, feed age and account totals, without a console."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events.payloads import PnlSnapshot, PositionSnapshot, Tick
from engine.events.types import Broker
from engine.market.calendar import NseCalendar
from engine.read_model import ReadModel
from engine.read_model.run_clock import RunClock

WALL = datetime_to_ns(datetime(2025, 1, 15, 20, 0, tzinfo=IST))  # after the close
EVENT = datetime_to_ns(datetime(2025, 1, 15, 11, 0, tzinfo=IST))


class Monotonic:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns


def _tick(price: str, ts: int = EVENT) -> Tick:
    return Tick(instrument_token=1, symbol="NSE:INFY", last_price=Decimal(price), exchange_ts=ts)


def test_sim_clock_follows_event_time_and_the_calendar_judges_it() -> None:
    model = ReadModel(clock=RunClock(label="SIM"))
    assert model.run_now_ns(WALL) is None and model.market_status(WALL) == "—"
    model.apply_tick(_tick("100", EVENT))
    model.apply_tick(_tick("101", EVENT - NS_PER_S))  # a late tick never rewinds the clock
    assert model.run_now_ns(WALL) == EVENT
    assert model.market_status(WALL) == "OPEN"  # the wall clock says CLOSED


def test_wall_clock_run_reads_the_calendar_at_wall_time() -> None:
    holiday = RunClock(calendar=NseCalendar([date(2025, 1, 15)]))
    assert ReadModel().market_status(WALL) == "CLOSED"
    assert ReadModel(clock=holiday).market_status(WALL) == "HOLIDAY"


def test_feed_age_is_arrival_time_not_event_time() -> None:
    mono = Monotonic()
    model = ReadModel(clock=RunClock(label="SIM", stale_after_s=5.0, monotonic_ns=mono))
    assert model.feed_age_s() is None
    model.apply_tick(_tick("100", EVENT - 3600 * NS_PER_S))  # an hour-old event time
    assert model.feed_age_s() == 0 and not model.clock.is_stale(model.feed_age_s())
    mono.ns += 6 * NS_PER_S
    assert model.clock.is_stale(model.feed_age_s())


def test_account_totals_follow_the_marks_from_the_last_snapshot() -> None:
    model = ReadModel()
    position = PositionSnapshot(
        broker=Broker.PAPER,
        strategy="s",
        instrument_token=1,
        symbol="NSE:INFY",
        net_quantity=10,
        average_price=Decimal("100"),
        last_price=Decimal("101"),
        realized_pnl=Decimal("-20"),
        unrealized_pnl=Decimal("10"),
        charges=Decimal("1"),
        trading_day="2025-01-15",
        day_realized_pnl=Decimal("-5"),
        day_unrealized_pnl=Decimal("4"),
        day_charges=Decimal("1"),
    )
    assert model.account().equity is None
    model.apply_pnl(
        PnlSnapshot(
            broker=Broker.PAPER,
            snapshot_ts=EVENT,
            realized_pnl=Decimal("-20"),
            unrealized_pnl=Decimal("10"),
            charges=Decimal("1"),
            cash=Decimal("0"),
            equity=Decimal("1010"),
            gross_exposure=Decimal("1010"),
            positions=(position,),
            trading_day="2025-01-15",
            day_realized_pnl=Decimal("-5"),
            day_unrealized_pnl=Decimal("4"),
            day_charges=Decimal("1"),
        )
    )
    model.apply_tick(_tick("103"))
    account = model.account(day="2025-01-15")
    # the day's figures, moved by the 2 rupees × 10 the mark moved since the snapshot
    assert account.unrealized_pnl == Decimal("24") and account.realized_pnl == Decimal("-5")
    assert account.day_pnl == Decimal("18")  # -5 + 24 - 1
    assert account.equity == Decimal("1030")  # cash 0 + 10 × 103


def test_on_the_simulated_market_an_alert_is_shown_at_the_run_clock_not_wall_time() -> None:
    """The kill switch's alert is stamped in wall time at its source: on SIM it showed
    05:44 beside orders at 10:33. Live (wall clock) it keeps its own stamp."""
    from engine.events.payloads import RiskAlert
    from engine.events.types import Severity

    kill = RiskAlert(severity=Severity.CRITICAL, rule="kill_switch", message="k", alert_ts=WALL)
    sim = ReadModel(clock=RunClock(label="SIM"))
    sim.wall_ns = lambda: WALL + 3 * NS_PER_S  # the alert arrives 3 s after it was raised
    sim.apply_tick(_tick("100", EVENT))
    sim.apply_alert(kill)
    live = ReadModel()
    live.apply_alert(kill)

    assert sim.alerts[0].alert_ts == EVENT
    assert live.alerts[0].alert_ts == WALL


def test_on_the_simulated_market_an_alert_on_the_run_clock_keeps_its_own_time() -> None:
    """A 15:15 square-off raised by a tick this console has not drawn yet (the newest it
    has seen is 15:14:45) is shown at 15:15, not re-stamped to 15:14:45."""
    from engine.events.payloads import RiskAlert
    from engine.events.types import Severity

    last_tick = datetime_to_ns(datetime(2025, 1, 15, 15, 14, 45, tzinfo=IST))
    square_off = datetime_to_ns(datetime(2025, 1, 15, 15, 15, tzinfo=IST))
    sim = ReadModel(clock=RunClock(label="SIM"))
    sim.apply_tick(_tick("100", last_tick))
    sim.apply_alert(
        RiskAlert(
            severity=Severity.WARNING, rule="mis_square_off", message="m", alert_ts=square_off
        )
    )
    assert sim.alerts[0].alert_ts == square_off


def test_on_the_simulated_market_an_old_alert_read_while_catching_up_keeps_its_own_time() -> None:
    """Seen in QA on a second console attached to a running cluster: its consumer read the
    ticks up to 12:30 before the kill switch's alert of 10:55 (stamped on the run's clock by
    the engine); the alert was re-stamped 12:30:19, beside the first console's 10:55:46.
    Only a stamp that is wall time (near this machine's clock) is taken for one."""
    from engine.events.payloads import RiskAlert
    from engine.events.types import Severity

    kill_at = datetime_to_ns(datetime(2026, 12, 7, 10, 55, 46, tzinfo=IST))
    newest = datetime_to_ns(datetime(2026, 12, 7, 12, 30, 19, tzinfo=IST))
    sim = ReadModel(clock=RunClock(label="SIM"))
    sim.apply_tick(_tick("100", newest))
    sim.apply_alert(
        RiskAlert(severity=Severity.CRITICAL, rule="kill_switch", message="k", alert_ts=kill_at)
    )
    assert sim.alerts[0].alert_ts == kill_at
