"""Per-order rules, each at its boundary, through a running RiskManager."""

from __future__ import annotations

from decimal import Decimal

from engine.events.types import OrderType, Side
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import INFY, TCS, limits


async def test_validated_signal_is_the_same_signal_on_the_validated_topic(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits())

    verdict = await risk.submit(signal_id="abc", quantity=7)

    assert verdict.accepted
    assert risk.seen.validated[0].signal_id == "abc"
    assert risk.seen.validated[0].quantity == 7


async def test_order_quantity_limit_is_inclusive(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_order_quantity=100))

    assert (await risk.submit(quantity=100)).accepted
    too_many = await risk.submit(quantity=101)

    assert too_many.rule == "max_order_quantity"
    assert "101" in too_many.reason and "100" in too_many.reason


async def test_unknown_instrument_is_always_rejected(start_risk: StartRisk) -> None:
    risk = await start_risk(limits())

    verdict = await risk.submit(token=999, symbol="NSE:GHOST")

    assert verdict.rule == "instrument"
    assert "NSE:GHOST" in verdict.reason


async def test_allowed_list_narrows_known_instruments(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(allowed_instruments=frozenset({INFY})))

    assert (await risk.submit(token=INFY)).accepted
    assert (await risk.submit(token=TCS)).rule == "instrument"


async def test_registry_lookup_function_is_accepted(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), known=lambda token: token == TCS)

    assert (await risk.submit(token=TCS)).accepted
    assert (await risk.submit(token=INFY)).rule == "instrument"


async def test_price_band_compares_limit_price_with_last_tick(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(price_band_pct=Decimal("5")))
    await risk.tick("1000")

    assert (await risk.submit(price="1050")).accepted  # exactly 5%
    assert (await risk.submit(price="950", side=Side.SELL)).accepted
    fat_finger = await risk.submit(price="1050.05")

    assert fat_finger.rule == "price_band"
    assert "1050.05" in fat_finger.reason and "1000" in fat_finger.reason


async def test_price_band_checks_the_trigger_of_stop_orders(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(price_band_pct=Decimal("5")))
    await risk.tick("1000")

    verdict = await risk.submit(order_type=OrderType.SL_M, trigger_price=Decimal("1200"))

    assert verdict.rule == "price_band"


async def test_limit_order_without_any_tick_is_not_compared_with_itself(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits(price_band_pct=Decimal("5")))

    verdict = await risk.submit(price="1000", reference_price=Decimal("1000"))

    assert verdict.rule == "price_band"
    assert "no market price" in verdict.reason


async def test_order_value_uses_the_last_tick_for_market_orders(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_order_value=Decimal("10000")))
    await risk.tick("1000")

    assert (await risk.submit(quantity=10)).accepted  # ₹10,000 exactly
    verdict = await risk.submit(quantity=11, reference_price=Decimal("1"))

    assert verdict.rule == "max_order_value"
    assert "₹11,000.00" in verdict.reason and "₹10,000.00" in verdict.reason


async def test_order_value_uses_the_limit_price_of_limit_orders(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_order_value=Decimal("10000")))
    await risk.tick("900")

    verdict = await risk.submit(quantity=10, price="1001")

    assert verdict.rule == "max_order_value"


async def test_order_with_no_price_anywhere_cannot_be_valued(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(max_order_value=Decimal("10000")))

    verdict = await risk.submit(quantity=1)

    assert verdict.rule == "no_price"


async def test_market_order_without_tick_is_valued_at_the_reference_price(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(limits(max_order_value=Decimal("10000")))

    verdict = await risk.submit(quantity=10, reference_price=Decimal("1500"))

    assert verdict.rule == "max_order_value"
