"""Position, exposure and open-order rules, fed by POSITION_UPDATED and order events."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from engine.domain.records import FillRecord, PositionRecord
from engine.events.types import OrderStatus, Side
from engine.memory_store import MemoryTradingStore
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import BROKER, INFY, MON_10AM, TCS, limits, make_signal, working_order


async def test_position_value_counts_the_position_the_portfolio_reported(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits(max_position_value=Decimal("100000")))
    await risk.tick("1000")
    await risk.position(net=90, average="990")

    assert (await risk.submit(quantity=10)).accepted  # 100 shares = ₹1,00,000
    verdict = await risk.submit(quantity=1)

    assert verdict.rule == "max_position_value"
    assert "101" in verdict.reason


async def test_position_value_sums_all_strategies_in_the_instrument(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits(max_position_value=Decimal("100000")))
    await risk.tick("1000")
    await risk.position(net=60, average="1000", strategy="ema")
    await risk.position(net=40, average="1000", strategy="rsi")

    assert (await risk.submit(quantity=1, strategy="momentum")).rule == "max_position_value"


async def test_order_that_shrinks_an_oversized_position_passes(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_position_value=Decimal("100000")))
    await risk.tick("1000")
    await risk.position(net=150, average="1000")

    assert (await risk.submit(side=Side.SELL, quantity=20)).accepted


async def test_gross_exposure_adds_every_instrument(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_gross_exposure=Decimal("500000")))
    await risk.tick("1000", token=INFY)
    await risk.tick("4000", token=TCS)
    await risk.position(net=100, average="1000", token=INFY)  # ₹1,00,000
    await risk.position(net=-90, average="4000", token=TCS)  # short ₹3,60,000

    assert (await risk.submit(token=INFY, quantity=40)).accepted  # ₹5,00,000 in all
    verdict = await risk.submit(token=INFY, quantity=1)

    assert verdict.rule == "max_gross_exposure"
    assert "₹501,000.00" in verdict.reason


async def test_burst_of_signals_cannot_exceed_max_open_orders(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_open_orders=3))
    burst = [make_signal(quantity=1) for _ in range(6)]

    await asyncio.gather(*(risk.send(s) for s in burst))
    verdicts = [await risk.verdict(s) for s in burst]

    assert sum(v.accepted for v in verdicts) == 3
    assert {v.rule for v in verdicts if not v.accepted} == {"max_open_orders"}


async def test_terminal_order_event_frees_an_open_order_slot(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_open_orders=2))
    first, second = make_signal(), make_signal()
    for signal in (first, second):
        await risk.send(signal)
        assert (await risk.verdict(signal)).accepted
    assert (await risk.submit()).rule == "max_open_orders"

    await risk.order_event(first, OrderStatus.SUBMITTED)
    await risk.order_event(first, OrderStatus.OPEN)
    assert (await risk.submit()).rule == "max_open_orders"  # still working

    await risk.order_event(first, OrderStatus.FILLED, filled=10)
    assert (await risk.submit()).accepted


async def test_working_orders_count_towards_position_value(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_position_value=Decimal("20000")))
    await risk.tick("1000")

    assert (await risk.submit(quantity=15)).accepted
    assert (await risk.submit(quantity=6)).rule == "max_position_value"


async def test_orders_per_second_by_signal_time(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_orders_per_second=2))
    second = 1_000_000_000

    assert (await risk.submit(signal_ts=MON_10AM)).accepted
    assert (await risk.submit(signal_ts=MON_10AM + second // 2)).accepted
    too_fast = await risk.submit(signal_ts=MON_10AM + second - 1)
    assert too_fast.rule == "order_rate"
    assert "2 orders in the last second" in too_fast.reason

    assert (await risk.submit(signal_ts=MON_10AM + second)).accepted  # first one aged out


async def test_restarted_risk_remembers_working_orders_and_positions(
    start_risk: StartRisk,
) -> None:
    store = MemoryTradingStore()
    working = make_signal(signal_id="before-restart", quantity=5)
    await store.insert_order(working_order(working))
    await store.record_fill(  # the journal holds the fill the position was built from
        FillRecord(
            broker=BROKER,
            trade_id="T-before-restart",
            client_order_id="filled-before-restart",
            strategy="ema",
            instrument_token=INFY,
            symbol=working.symbol,
            side=Side.BUY,
            quantity=10,
            price=Decimal("1000"),
            charges=Decimal("0"),
            fill_ts=MON_10AM,
        ),
        PositionRecord(
            broker=BROKER,
            strategy="ema",
            instrument_token=INFY,
            symbol=working.symbol,
            net_quantity=10,
            average_price=Decimal("1000"),
        ),
    )
    risk = await start_risk(
        limits(max_open_orders=1, max_position_value=Decimal("20000")), store=store
    )

    assert (await risk.submit(quantity=1)).rule == "max_open_orders"
    await risk.order_event(working, OrderStatus.CANCELLED)

    assert (await risk.submit(quantity=11)).rule == "max_position_value"  # 21 @ cost 1000
    assert (await risk.submit(quantity=10)).accepted
