"""Kite's instruments dump loads row by row; bad rows are named by line, never fatal."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pytest

from engine.instruments import InstrumentCsvError, parse_instruments

HEADER = (
    "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,"
    "tick_size,lot_size,instrument_type,segment,exchange\n"
)
DUMP = HEADER + (
    "738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.05,1,EQ,NSE,NSE\n"  # line 2
    "abc,1,BROKEN,BROKEN,0,,0,0.05,1,EQ,NSE,NSE\n"  # line 3
    "12517890,48898,NIFTY24JANFUT,NIFTY,0,2024-01-25,0,0.05,50,FUT,NFO-FUT,NFO\n"  # line 4
    "13,1,BADTICK,BADTICK,0,,0,-0.05,1,EQ,NSE,NSE\n"  # line 5
    "14,1,BADEXPIRY,BADEXPIRY,0,25-01-2024,0,0.05,1,FUT,NFO-FUT,NFO\n"  # line 6
    "738561,2885,RELIANCE,RELIANCE AGAIN,0,,0,0.05,1,EQ,NSE,NSE\n"  # line 7
    "256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE\n"  # line 8
)


def test_good_rows_load_and_bad_rows_are_reported_with_line_numbers() -> None:
    result = parse_instruments(DUMP)

    keys = [i.key for i in result.instruments]
    assert keys == ["NSE:RELIANCE", "NFO:NIFTY24JANFUT", "NSE:NIFTY 50"]
    future = result.instruments[1]
    assert future.lot_size == 50 and future.expiry is not None and future.expiry.day == 25
    assert future.tick_size == Decimal("0.05")
    by_line = {e.line: str(e) for e in result.errors}
    assert sorted(by_line) == [3, 5, 6, 7]
    assert "instrument_token 'abc' is not a number" in by_line[3]
    assert "negative tick_size" in by_line[5]
    assert "expiry '25-01-2024'" in by_line[6]
    assert "duplicate NSE:RELIANCE (first on line 2)" in by_line[7]
    assert by_line[3].startswith("line 3:")


def test_gzipped_bytes_load_like_plain_text() -> None:
    plain = parse_instruments(DUMP.encode())
    zipped = parse_instruments(gzip.compress(DUMP.encode()))

    assert zipped.instruments == plain.instruments
    assert [e.line for e in zipped.errors] == [e.line for e in plain.errors]


def test_a_file_without_kite_columns_is_refused_as_a_whole() -> None:
    with pytest.raises(InstrumentCsvError, match="missing columns"):
        parse_instruments("symbol,price\nINFY,1500\n")
