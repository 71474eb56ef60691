"""A tick stored and read back is the tick the engine saw: prices exact, nulls kept."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.events.payloads import DepthLevel, Tick
from storage.ticks.schema import (
    TICK_SCHEMA,
    PriceScaleError,
    scale_price,
    table_to_ticks,
    ticks_to_batch,
)

START_NS = 1_767_240_900_000_000_000  # 2026-01-01 09:45 IST


def _roundtrip(ticks: list[Tick]) -> list[Tick]:
    batch = ticks_to_batch(ticks)
    assert batch.schema == TICK_SCHEMA
    return list(table_to_ticks(pa.Table.from_batches([batch])))


def _price(tick_size: str) -> st.SearchStrategy[Decimal]:
    """Prices on a tick-size grid, from one tick to above MRF's share price."""
    size = Decimal(tick_size)
    return st.integers(min_value=1, max_value=20_000_000).map(lambda n: n * size)


def _ticks(tick_size: str) -> st.SearchStrategy[Tick]:
    price = _price(tick_size)
    maybe_price = st.none() | price
    quantity = st.integers(min_value=0, max_value=10**12)
    return st.builds(
        Tick,
        instrument_token=st.integers(min_value=1, max_value=2**40),
        symbol=st.sampled_from(["NSE:INFY", "NSE:TCS", "CDS:USDINR26JANFUT"]),
        last_price=price,
        exchange_ts=st.integers(min_value=START_NS, max_value=START_NS + 10**14),
        last_quantity=quantity,
        volume=quantity,
        bid=maybe_price,
        ask=maybe_price,
        bid_quantity=quantity,
        ask_quantity=quantity,
        open=maybe_price,
        high=maybe_price,
        low=maybe_price,
        close=maybe_price,
        oi=st.none() | quantity,
    )


@pytest.mark.parametrize("tick_size", ["0.05", "0.0025"])
def test_every_price_on_the_tick_grid_survives_the_round_trip(tick_size: str) -> None:
    @given(st.lists(_ticks(tick_size), min_size=1, max_size=40))
    def check(ticks: list[Tick]) -> None:
        assert _roundtrip(ticks) == ticks

    check()


def _tick(price: str, symbol: str = "NSE:INFY", **extra: object) -> Tick:
    return Tick(
        instrument_token=408065,
        symbol=symbol,
        last_price=Decimal(price),
        exchange_ts=START_NS,
        **extra,  # type: ignore[arg-type]
    )


def test_absent_prices_and_open_interest_stay_absent_not_zero() -> None:
    (back,) = _roundtrip([_tick("1574.20")])
    absent = (back.bid, back.ask, back.open, back.high, back.low, back.close, back.oi)
    assert absent == (None,) * 7
    assert back.last_price == Decimal("1574.20")


def test_prices_read_back_in_rupees_and_paise_unless_they_need_four_places() -> None:
    ticks = [_tick("1574.2"), _tick("83.1225", symbol="CDS:USDINR26JANFUT")]
    assert [str(t.last_price) for t in _roundtrip(ticks)] == ["1574.20", "83.1225"]


def test_a_price_finer_than_the_store_holds_is_refused_not_rounded() -> None:
    with pytest.raises(PriceScaleError, match=r"1574\.20001"):
        ticks_to_batch([_tick("1574.20001")])


def test_market_depth_is_not_stored() -> None:
    (back,) = _roundtrip([_tick("10", depth_buy=(DepthLevel(Decimal("9.95"), 10, 1),))])
    assert back.depth_buy == ()


def test_a_price_above_any_listed_one_is_still_stored_exactly() -> None:
    huge = "123456789012.3475"  # past what a double holds to the 1/10,000
    (back,) = _roundtrip([_tick(huge)])
    assert back.last_price == Decimal(huge)


def test_a_price_beyond_eighteen_digits_is_still_stored_exactly() -> None:
    huge = "500000000000000.0005"  # 19 digits: past Arrow's decimal, within int64 units
    (back,) = _roundtrip([_tick(huge)])
    assert back.last_price == Decimal(huge)


@given(st.lists(_ticks("0.05"), min_size=1, max_size=40), st.data())
def test_ticks_sharing_price_objects_read_back_field_by_field(
    ticks: list[Tick], data: st.DataObject
) -> None:
    """Feeds share one Decimal per price across ticks and fields (the simulated walk's
    cache, a replay's columns): every field still gets its own value back."""
    pool = [Decimal("1574.20"), Decimal("0.05"), Decimal("1574.2"), None]
    shared = st.sampled_from(pool)
    rebuilt = [
        msgspec.structs.replace(
            tick,
            last_price=data.draw(st.sampled_from(pool[:3])),
            bid=data.draw(shared),
            ask=data.draw(shared),
            open=data.draw(shared),
            close=data.draw(shared),
        )
        for tick in ticks
    ]
    assert _roundtrip(rebuilt) == rebuilt


def test_a_batch_longer_than_a_conversion_chunk_keeps_every_tick_in_order() -> None:
    pool = [Decimal(n).scaleb(-2) for n in range(150_000, 150_050)]  # 1500.00 .. 1500.49
    ticks = [
        msgspec.structs.replace(
            _tick(f"{1400 + n / 100:.2f}", symbol="NSE:TCS"),  # a fresh object per tick
            exchange_ts=START_NS + n,
            bid=pool[n % 7],
            ask=pool[(n * 3) % 50],
            high=pool[-1],
            volume=n,
        )
        if n % 3
        else msgspec.structs.replace(_tick("1"), last_price=pool[n % 50], exchange_ts=START_NS + n)
        for n in range(5_000)
    ]
    assert _roundtrip(ticks) == ticks


_ANY_DECIMAL = st.builds(
    lambda coefficient, exponent: Decimal(coefficient).scaleb(exponent),
    st.integers(min_value=-(10**19), max_value=10**19),
    st.integers(min_value=-9, max_value=6),
)


@given(st.lists(_ANY_DECIMAL, min_size=1, max_size=8), st.integers(min_value=0, max_value=6))
def test_any_price_is_stored_exactly_or_refused_as_scale_price_decides(
    prices: list[Decimal], field: int
) -> None:
    """Prices in any form (exponents, more than four places, past eighteen digits, in any
    price column among others): the batch holds exactly what ``scale_price`` computes, or
    refuses the batch when ``scale_price`` refuses one of them."""
    name = ("last_price", "bid", "ask", "open", "high", "low", "close")[field]
    ticks = [msgspec.structs.replace(_tick("1574.20"), **{name: price}) for price in prices]
    try:
        expected = [scale_price(price) for price in prices]
    except PriceScaleError:
        with pytest.raises(PriceScaleError):
            ticks_to_batch(ticks)
        return
    except (OverflowError, ValueError):  # beyond int64 units: not storable at all
        return
    if any(not -(2**63) < units < 2**63 for units in expected):
        return
    column = ticks_to_batch(ticks).column(TICK_SCHEMA.names[3 + field]).to_pylist()
    assert column == expected
