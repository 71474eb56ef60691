"""Whole lots and the exchange freeze quantity, from the instrument registry."""

from __future__ import annotations

from decimal import Decimal

from engine.domain.records import Instrument
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import INFY, TCS, limits

NIFTY_FUT = Instrument(
    instrument_token=INFY,
    exchange_token=1594,
    tradingsymbol="NIFTY26DECFUT",
    name="NIFTY",
    exchange="NFO",
    segment="NFO-FUT",
    instrument_type="FUT",
    tick_size=Decimal("0.05"),
    lot_size=75,
    freeze_quantity=1800,
)


def _registry(token: int) -> Instrument | None:
    return NIFTY_FUT if token == INFY else None


async def test_only_whole_lots_pass(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), instrument_of=_registry)

    assert (await risk.submit(quantity=150)).accepted
    odd = await risk.submit(quantity=100)

    assert odd.rule == "lot_size"
    assert "lot size 75" in (odd.reason or "")


async def test_above_the_freeze_quantity_is_rejected_with_advice(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), instrument_of=_registry)

    assert (await risk.submit(quantity=1800)).accepted
    big = await risk.submit(quantity=1875)

    assert big.rule == "freeze_quantity"
    assert "freeze quantity 1800" in (big.reason or "") and "split" in (big.reason or "")


async def test_instruments_without_lot_data_are_not_blocked(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), instrument_of=_registry)

    assert (await risk.submit(quantity=7, instrument_token=TCS, symbol="NSE:TCS")).accepted
