"""Whole lots and the exchange freeze quantity, from the instrument registry."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from engine.domain.records import Instrument
from engine.instruments.freeze import FreezePolicy, FreezeTable, load_freeze_table
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


async def test_above_the_freeze_quantity_passes_as_autoslice_legs(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), instrument_of=_registry)

    assert (await risk.submit(quantity=1875)).accepted  # two legs: 1800 and 75
    assert (await risk.submit(quantity=18000)).accepted  # ten legs of 1800: the cap


async def test_more_legs_than_the_cap_is_refused_with_the_largest_order(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(
        limits(freeze=FreezePolicy(FreezeTable(), max_legs=3)), instrument_of=_registry
    )

    assert (await risk.submit(quantity=5400)).accepted
    big = await risk.submit(quantity=5475)

    assert big.rule == "freeze_quantity"
    assert "4 autoslice legs, more than the 3 allowed" in (big.reason or "")
    assert "at most 5400 in one order" in (big.reason or "")


async def test_with_autoslice_off_above_the_freeze_is_refused_with_the_figure(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(
        limits(freeze=FreezePolicy(FreezeTable(), autoslice=False)), instrument_of=_registry
    )

    assert (await risk.submit(quantity=1800)).accepted
    big = await risk.submit(quantity=1875)

    assert big.rule == "freeze_quantity"
    assert "freeze quantity 1800" in (big.reason or "") and "split" in (big.reason or "")


async def test_the_table_s_figure_for_the_underlying_applies_to_its_contracts(
    start_risk: StartRisk,
) -> None:
    """The dump has no freeze quantity: the dated table's NFO:NIFTY entry is the one used."""
    unlisted = msgspec.structs.replace(NIFTY_FUT, freeze_quantity=None)
    policy = FreezePolicy(load_freeze_table({"NFO:NIFTY": 900}), autoslice=False)
    risk = await start_risk(limits(freeze=policy), instrument_of={INFY: unlisted}.get)

    assert (await risk.submit(quantity=900)).accepted
    big = await risk.submit(quantity=975)

    assert big.rule == "freeze_quantity" and "freeze quantity 900" in (big.reason or "")


async def test_lot_size_is_checked_before_slicing(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), instrument_of=_registry)

    odd = await risk.submit(quantity=1900)

    assert odd.rule == "lot_size"


async def test_instruments_without_lot_data_are_not_blocked(start_risk: StartRisk) -> None:
    risk = await start_risk(limits(), instrument_of=_registry)

    assert (await risk.submit(quantity=7, instrument_token=TCS, symbol="NSE:TCS")).accepted
