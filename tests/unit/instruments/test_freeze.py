"""Freeze quantities and autoslice legs: the split the exchange would take, and the policy."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.records import Instrument
from engine.instruments.freeze import FreezePolicy, FreezeTable, legs, load_freeze_table

NIFTY_OPT = Instrument(
    instrument_token=1,
    exchange_token=1,
    tradingsymbol="NIFTY26DEC24000CE",
    name="NIFTY",
    exchange="NFO",
    segment="NFO-OPT",
    instrument_type="CE",
    tick_size=Decimal("0.05"),
    lot_size=75,
)


@given(
    lots=st.integers(min_value=1, max_value=5000),
    lot=st.sampled_from([1, 15, 25, 65, 75]),
    freeze=st.integers(min_value=1, max_value=10_000),
)
def test_legs_add_up_to_the_order_and_each_fits_the_freeze(
    lots: int, lot: int, freeze: int
) -> None:
    quantity = lots * lot
    sliced = legs(quantity, freeze, lot)

    assert sum(sliced) == quantity
    assert all(leg % lot == 0 and leg > 0 for leg in sliced)
    if quantity <= freeze:
        assert sliced == [quantity]
    elif freeze >= lot:
        assert all(leg <= freeze for leg in sliced)
        size = freeze - freeze % lot
        assert len(sliced) == math.ceil(quantity / size)


def test_the_policy_passes_up_to_the_cap_and_names_the_figure_above_it() -> None:
    table = FreezeTable({"NFO:NIFTY": 1800})
    policy = FreezePolicy(table, max_legs=2)

    assert policy.refusal(NIFTY_OPT, 1800) is None
    assert policy.refusal(NIFTY_OPT, 3600) is None
    assert policy.legs_of(NIFTY_OPT, 3675) == [1800, 1800, 75]
    refused = policy.refusal(NIFTY_OPT, 3675) or ""
    assert "freeze quantity 1800" in refused and "3 autoslice legs" in refused
    off = FreezePolicy(table, autoslice=False).refusal(NIFTY_OPT, 1875) or ""
    assert "freeze quantity 1800" in off and "autoslice is off" in off
    assert FreezePolicy(table, autoslice=False).legs_of(NIFTY_OPT, 1875) == [1800, 75]


def test_an_instrument_s_own_entry_wins_over_its_underlying_s() -> None:
    table = FreezeTable({"NFO:NIFTY": 1800, f"NFO:{NIFTY_OPT.tradingsymbol}": 900})

    assert table.of(NIFTY_OPT) == 900


def test_a_table_file_replaces_the_shipped_one_and_overrides_still_win(tmp_path: Path) -> None:
    path = tmp_path / "freeze.json"
    path.write_text(
        json.dumps({"as_of": "2026-07-01", "source": "desk", "underlyings": {"NFO:NIFTY": 1300}})
    )

    table = load_freeze_table(path=path)
    overridden = load_freeze_table({"NFO:NIFTY": 650}, path=path)

    assert (table.as_of, table.of(NIFTY_OPT)) == ("2026-07-01", 1300)
    assert overridden.of(NIFTY_OPT) == 650


def test_a_malformed_table_file_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "freeze.json"
    path.write_text(json.dumps({"NFO:NIFTY": 1800}))

    with pytest.raises(ValueError, match="needs an 'underlyings' object"):
        load_freeze_table(path=path)
