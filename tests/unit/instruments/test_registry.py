"""The registry resolves symbols and tokens, and keeps prices and quantities exchange-valid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain.records import Instrument
from engine.instruments import (
    InstrumentRegistry,
    UnknownInstrument,
    is_lot_multiple,
    is_tick_multiple,
    load_default_registry,
    round_to_tick,
)


def _instrument(symbol: str, token: int, tick: str = "0.05", lot: int = 1) -> Instrument:
    return Instrument(
        instrument_token=token,
        exchange_token=token >> 8,
        tradingsymbol=symbol,
        name=symbol,
        exchange="NSE",
        segment="NSE",
        instrument_type="EQ",
        tick_size=Decimal(tick),
        lot_size=lot,
    )


def test_lookup_by_key_token_and_bare_symbol() -> None:
    registry = InstrumentRegistry([_instrument("INFY", 408065)])

    assert registry.by_key("NSE:INFY").instrument_token == 408065
    assert registry.by_key("INFY").key == "NSE:INFY"
    assert registry.by_token(408065).key == "NSE:INFY"
    assert registry.resolve("408065").key == "NSE:INFY"
    assert "NSE:INFY" in registry and "NSE:TCS" not in registry
    with pytest.raises(UnknownInstrument, match="NSE:TCS"):
        registry.by_key("NSE:TCS")
    with pytest.raises(UnknownInstrument, match="12345"):
        registry.by_token(12345)


def test_reused_token_resolves_to_the_newest_contract_and_keys_stay_distinct() -> None:
    old = _instrument("NIFTY24JANFUT", 9001, lot=50)
    new = _instrument("NIFTY24FEBFUT", 9001, lot=75)
    registry = InstrumentRegistry([old, new])

    assert registry.by_token(9001) is new
    assert registry.by_key("NSE:NIFTY24JANFUT") is old
    assert len(registry) == 2


@pytest.mark.parametrize(
    ("price", "expected"),
    [("100.03", "100.05"), ("100.02", "100.00"), ("100.025", "100.05"), ("99.99", "100.00")],
)
def test_round_to_tick_gives_the_nearest_multiple(price: str, expected: str) -> None:
    infy = _instrument("INFY", 408065)
    assert round_to_tick(Decimal(price), infy) == Decimal(expected)
    assert is_tick_multiple(round_to_tick(Decimal(price), infy), infy)


def test_index_with_zero_tick_size_moves_in_paise() -> None:
    nifty = _instrument("NIFTY 50", 256265, tick="0", lot=0)
    assert round_to_tick(Decimal("24850.357"), nifty) == Decimal("24850.36")
    assert is_tick_multiple(Decimal("24850.35"), nifty)
    assert not is_lot_multiple(1, nifty)


def test_tick_and_lot_multiples() -> None:
    future = _instrument("NIFTYFUT", 9001, lot=75)
    assert is_tick_multiple(Decimal("22000.05"), future)
    assert not is_tick_multiple(Decimal("22000.03"), future)
    assert is_lot_multiple(150, future)
    assert not is_lot_multiple(100, future)
    assert not is_lot_multiple(0, future)
    assert not is_lot_multiple(-75, future)


def test_default_registry_ships_liquid_nse_equities_and_the_two_indices() -> None:
    registry = load_default_registry()
    equities = registry.tradable()

    assert len(equities) >= 50
    assert registry.by_key("NSE:RELIANCE").instrument_token == 738561
    assert registry.by_key("NSE:INFY").instrument_token == 408065
    assert registry.by_key("NSE:TCS").instrument_token == 2953217
    assert registry.by_token(256265).key == "NSE:NIFTY 50"
    assert registry.by_token(260105).segment == "INDICES"
    for equity in equities:
        # Kite tokens carry the segment in the low byte (NSE = 1) and the exchange token above.
        assert equity.instrument_token & 0xFF == 1, equity.key
        assert equity.exchange_token == equity.instrument_token >> 8, equity.key
        assert equity.tick_size == Decimal("0.05") and equity.lot_size == 1
        assert equity.last_price > 0 and is_tick_multiple(equity.last_price, equity)
