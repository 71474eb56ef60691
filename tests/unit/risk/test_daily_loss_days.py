"""The daily loss limit counts the current trading day only and resets at the next session."""

from __future__ import annotations

from decimal import Decimal

from engine.clock import NS_PER_S
from engine.events.payloads import PnlSnapshot
from engine.events.types import ControlAction, Severity, TradingMode
from engine.memory_store import MemoryTradingStore
from engine.risk.alerts import loss_halt_day
from engine.trading_state.state import GLOBAL_SCOPE
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import MON_10AM, limits, pnl_snapshot

DAY_NS = 86_400 * NS_PER_S
TUE_10AM = MON_10AM + DAY_NS
WED_10AM = TUE_10AM + DAY_NS
LIMIT = limits(max_daily_loss=Decimal("5000"))


def day_snapshot(
    day: str, day_pnl: str, overall: str | None = None, ts: int = MON_10AM
) -> PnlSnapshot:
    """What the portfolio publishes on trading ``day``: today's realized P&L beside the whole."""
    snap = pnl_snapshot(overall or day_pnl, "0", ts=ts)
    return PnlSnapshot(
        **{
            **{f: getattr(snap, f) for f in snap.__struct_fields__},
            "trading_day": day,
            "day_realized_pnl": Decimal(day_pnl),
            "day_unrealized_pnl": Decimal(0),
            "day_charges": Decimal(0),
            "event_ts": ts,
        }
    )


async def test_the_whole_losing_history_is_not_todays_loss(start_risk: StartRisk) -> None:
    risk = await start_risk(LIMIT)
    await risk.tick("100", ts=TUE_10AM)

    await risk.publish_pnl(day_snapshot("2024-06-04", "-200", overall="-9000", ts=TUE_10AM))

    assert risk.trading.effective() is TradingMode.ACTIVE
    assert (await risk.submit(signal_ts=TUE_10AM)).accepted


async def test_a_loss_halt_on_day_one_lifts_at_the_next_session(start_risk: StartRisk) -> None:
    store = MemoryTradingStore()
    risk = await start_risk(LIMIT, store=store)
    await risk.tick("100", ts=MON_10AM)
    await risk.publish_pnl(day_snapshot("2024-06-03", "-6000"))
    assert risk.trading.effective() is TradingMode.HALTED
    halt = risk.trading.record(GLOBAL_SCOPE)
    assert halt is not None and loss_halt_day(halt.reason) == "2024-06-03"
    assert not (await risk.submit(signal_ts=MON_10AM + NS_PER_S)).accepted  # rest of the day

    await risk.tick("100", ts=TUE_10AM)  # Tuesday's first tick

    assert risk.trading.effective() is TradingMode.ACTIVE
    assert (await risk.submit(signal_ts=TUE_10AM + NS_PER_S)).accepted  # the loss is yesterday's
    seen = await risk.drain()
    assert [c.action for c in seen.controls] == [ControlAction.HALT, ControlAction.RESUME]
    assert seen.controls[1].if_reason == halt.reason  # never undoes a later operator halt
    resumed = [a for a in seen.alerts if a.severity is Severity.INFO]
    assert len(resumed) == 1 and "new trading day 2024-06-04" in resumed[0].message
    assert [a.rule for a in store.alerts] == ["daily_loss", "trading_state", "daily_loss"]


async def test_the_limit_counts_again_on_the_new_day(start_risk: StartRisk) -> None:
    risk = await start_risk(LIMIT)
    await risk.publish_pnl(day_snapshot("2024-06-03", "-6000"))
    await risk.tick("100", ts=TUE_10AM)
    assert risk.trading.effective() is TradingMode.ACTIVE

    await risk.publish_pnl(day_snapshot("2024-06-04", "-5000", overall="-11000", ts=TUE_10AM))

    assert risk.trading.effective() is TradingMode.HALTED
    record = risk.trading.record(GLOBAL_SCOPE)
    assert record is not None and loss_halt_day(record.reason) == "2024-06-04"
    await risk.tick("100", ts=WED_10AM)
    assert risk.trading.effective() is TradingMode.ACTIVE


async def test_a_snapshot_from_yesterday_arriving_today_does_not_count(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(LIMIT)
    await risk.tick("100", ts=TUE_10AM)

    await risk.publish_pnl(day_snapshot("2024-06-03", "-6000"))

    assert risk.trading.effective() is TradingMode.ACTIVE
    assert (await risk.submit(signal_ts=TUE_10AM)).accepted


async def test_a_signal_of_the_new_day_lifts_the_halt_before_it_is_judged(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(LIMIT)
    await risk.publish_pnl(day_snapshot("2024-06-03", "-6000"))

    assert (await risk.submit(signal_ts=TUE_10AM)).accepted


async def test_an_operator_halt_after_the_loss_halt_is_never_lifted(start_risk: StartRisk) -> None:
    risk = await start_risk(LIMIT)
    await risk.publish_pnl(day_snapshot("2024-06-03", "-6000"))
    risk.trading.set(TradingMode.HALTED, reason="kill switch", operator="alice", ts_ns=MON_10AM)

    await risk.tick("100", ts=TUE_10AM)

    assert risk.trading.effective() is TradingMode.HALTED
    assert not (await risk.submit(signal_ts=TUE_10AM)).accepted


async def test_the_halt_holds_over_the_evening_and_the_weekend(start_risk: StartRisk) -> None:
    risk = await start_risk(LIMIT)
    friday = MON_10AM + 4 * DAY_NS
    await risk.tick("100", ts=friday)
    await risk.publish_pnl(day_snapshot("2024-06-07", "-6000", ts=friday))

    await risk.tick("100", ts=friday + 8 * 3600 * NS_PER_S)  # Friday 18:00
    await risk.tick("100", ts=friday + DAY_NS)  # Saturday
    await risk.tick("100", ts=friday + 3 * DAY_NS - 3600 * NS_PER_S)  # Monday 09:00, pre-open
    assert risk.trading.effective() is TradingMode.ACTIVE  # the session began at 09:00
    # ... and not one minute earlier:
    risk2 = await start_risk(LIMIT)
    await risk2.tick("100", ts=friday)
    await risk2.publish_pnl(day_snapshot("2024-06-07", "-6000", ts=friday))
    await risk2.tick("100", ts=friday + 3 * DAY_NS - 61 * 60 * NS_PER_S)  # Monday 08:59
    assert risk2.trading.effective() is TradingMode.HALTED
