"""Market hours by event time, and the trading-state rule (HALTED, REDUCING)."""

from __future__ import annotations

from datetime import date, datetime

from engine.clock import IST, datetime_to_ns
from engine.events.types import Side, TradingMode
from engine.market.calendar import NseCalendar
from engine.risk import RiskLimits
from engine.trading_state import TradingControl
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import BROKER, limits

INDEPENDENCE_DAY = date(2024, 8, 15)  # a Thursday


def ist(*args: int) -> int:
    return datetime_to_ns(datetime(*args, tzinfo=IST))


def hours_limits() -> RiskLimits:
    return limits(enforce_market_hours=True, calendar=NseCalendar(holidays={INDEPENDENCE_DAY}))


async def test_signal_during_the_session_passes_whatever_the_wall_clock(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(hours_limits())

    assert (await risk.submit(signal_ts=ist(2024, 6, 3, 10, 0))).accepted
    assert (await risk.submit(signal_ts=ist(2024, 6, 3, 9, 15))).accepted
    assert (await risk.submit(signal_ts=ist(2024, 6, 3, 15, 29, 59))).accepted


async def test_signal_after_the_close_is_rejected(start_risk: StartRisk) -> None:
    risk = await start_risk(hours_limits())

    verdict = await risk.submit(signal_ts=ist(2024, 6, 3, 16, 0))

    assert verdict.rule == "market_hours"
    assert "16:00:00 IST" in verdict.reason and "CLOSED" in verdict.reason
    assert (await risk.submit(signal_ts=ist(2024, 6, 3, 15, 30))).rule == "market_hours"


async def test_pre_open_holiday_and_weekend_are_rejected(start_risk: StartRisk) -> None:
    risk = await start_risk(hours_limits())

    pre_open = await risk.submit(signal_ts=ist(2024, 6, 3, 9, 10))
    holiday = await risk.submit(signal_ts=ist(2024, 8, 15, 10, 0))
    saturday = await risk.submit(signal_ts=ist(2024, 6, 8, 10, 0))

    assert "PRE-OPEN" in pre_open.reason
    assert holiday.rule == "market_hours" and "holiday" in holiday.reason
    assert saturday.rule == "market_hours" and "weekend" in saturday.reason


async def test_signal_without_event_time_is_rejected(start_risk: StartRisk) -> None:
    risk = await start_risk(hours_limits())

    verdict = await risk.submit(signal_ts=0)

    assert verdict.rule == "market_hours"
    assert "no event time" in verdict.reason


async def test_halted_rejects_every_order_even_a_reducing_one(start_risk: StartRisk) -> None:
    risk = await start_risk(limits())
    await risk.position(net=50, average="100")
    risk.trading.set(TradingMode.HALTED, reason="operator pressed kill")

    buy = await risk.submit(side=Side.BUY)
    sell = await risk.submit(side=Side.SELL, quantity=10)

    assert buy.rule == sell.rule == "trading_state"
    assert "HALTED" in buy.reason and "operator pressed kill" in buy.reason


async def test_halting_one_strategy_leaves_others_trading(start_risk: StartRisk) -> None:
    risk = await start_risk(limits())
    risk.trading.set(TradingMode.HALTED, "ema")

    assert (await risk.submit(strategy="ema")).rule == "trading_state"
    assert (await risk.submit(strategy="rsi")).accepted


async def test_reducing_passes_a_reducing_order_and_rejects_an_increasing_one(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits())
    await risk.position(net=50, average="100")
    risk.trading.set(TradingMode.REDUCING)

    assert (await risk.submit(side=Side.SELL, quantity=50)).accepted
    more = await risk.submit(side=Side.BUY, quantity=1)
    flip = await risk.submit(side=Side.SELL, quantity=1)  # the 50 sell is still working

    assert more.rule == "trading_state" and "REDUCING" in more.reason
    assert flip.rule == "trading_state"


async def test_reducing_a_short_means_buying_no_more_than_the_short(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits())
    await risk.position(net=-20, average="100")
    risk.trading.set(TradingMode.REDUCING)

    assert (await risk.submit(side=Side.BUY, quantity=21)).rule == "trading_state"
    assert (await risk.submit(side=Side.BUY, quantity=20)).accepted


async def test_kill_switch_stops_the_very_next_signal(start_risk: StartRisk) -> None:
    risk = await start_risk(limits())
    control = TradingControl(risk.bus, risk.trading, BROKER)

    await control.kill(operator="alice@desk", reason="panic")
    verdict = await risk.submit()

    assert verdict.rule == "trading_state" and "panic" in verdict.reason
