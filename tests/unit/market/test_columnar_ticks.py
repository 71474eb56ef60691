"""Recorded columns load into the same ticks, and refuse the same rows, as the CSV path.

The property test renders random rows (good, and every kind of bad) both as columns and
as a CSV, and requires the columnar checks to reject exactly the rows the CSV replay
rejects and to build identical ticks from the rest, prices printed the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import IST, datetime_to_ns, ns_to_datetime
from engine.events.payloads import Tick
from engine.instruments import load_default_registry
from engine.market.feeds.base import RejectedRow
from engine.market.feeds.column_checks import validated_chunks, validated_ticks
from engine.market.feeds.columnar import (
    PRICE_NAMES,
    QUANTITY_NAMES,
    TickColumns,
    build_ticks,
    price_from_units,
)
from engine.market.feeds.replay import iter_replay

REGISTRY = load_default_registry()
SCALE = 10_000
RELIANCE, INFY, NIFTY, UNKNOWN = 738561, 408065, 256265, 999_999
OPEN_NS = datetime_to_ns(datetime(2024, 1, 2, 9, 15, tzinfo=IST))
YEAR_2100_NS = datetime_to_ns(datetime(2100, 1, 1, tzinfo=IST))
NULL = -1  # what sits under a null, as storage fills it
NAME_OF = {RELIANCE: "NSE:RELIANCE", INFY: "NSE:INFY", NIFTY: "NSE:NIFTY 50"}
NAMES = [*NAME_OF.values(), "NSE:UNKNOWN"]

Row = dict[str, int | None]  # column name -> value (None: null)


def columns_of(rows: list[Row]) -> TickColumns:
    def column(name: str) -> np.ndarray:
        return np.array([NULL if r.get(name) is None else r[name] for r in rows], np.int64)

    nullable = (*PRICE_NAMES, "oi")
    nulls = {n: np.array([r.get(n) is None for r in rows]) for n in nullable}
    return TickColumns(
        ts=column("ts"),
        token=column("token"),
        prices={n: column(n) for n in PRICE_NAMES},
        quantities={n: np.array([r.get(n) or 0 for r in rows], np.int64) for n in QUANTITY_NAMES},
        oi=column("oi"),
        nulls={n: mask for n, mask in nulls.items() if mask.any()},
        symbol=np.array([NAMES.index(NAME_OF.get(r["token"], "NSE:UNKNOWN")) for r in rows]),
        symbol_names=NAMES,
        price_scale=SCALE,
    )


CSV_HEADER = "ts,instrument_token,last_price,bid,ask,open,high,low,close,"
CSV_HEADER += "last_quantity,volume,bid_quantity,ask_quantity,oi"


def csv_lines(rows: list[Row]) -> list[bytes]:
    """The same rows as a tick CSV (prices in rupees, times ISO 8601 in IST)."""

    def price(value: int | None) -> str:
        return "" if value is None else str(Decimal(value).scaleb(-4))

    lines = [CSV_HEADER]
    for r in rows:
        ts = ns_to_datetime(r["ts"] or 0, IST).isoformat()
        prices = [price(r.get(n)) for n in PRICE_NAMES]
        counts = [str(r.get(n) or 0) for n in QUANTITY_NAMES]
        oi = "" if r.get("oi") is None else str(r["oi"])
        lines.append(",".join([ts, str(r["token"]), *prices, *counts, oi]))
    return [line.encode() for line in lines]


def good_row(n: int, token: int = INFY, units: int = 15_000_000) -> Row:
    return {
        "ts": OPEN_NS + n * 1_000_000_000,
        "token": token,
        "last": units,
        "bid": units - 500,
        "ask": units + 500,
        "volume": 100 + n,
        "last_qty": 1,
    }


@st.composite
def row_lists(draw: st.DrawFn) -> list[Row]:
    """Mostly plausible ticks of two equities and an index, with every kind of fault."""
    rows: list[Row] = []
    prices = {RELIANCE: 24_855_000, INFY: 15_200_000, NIFTY: 217_000_000, UNKNOWN: 1_000_000}
    ts = OPEN_NS
    for _ in range(draw(st.integers(1, 40))):
        token = draw(st.sampled_from([RELIANCE, INFY, INFY, NIFTY, UNKNOWN]))
        ts += draw(st.sampled_from([0, 1, 1, 5, -3])) * 1_000_000_000
        step = draw(st.integers(-40, 40)) * (100 if token == NIFTY else 500)
        units = prices[token] = max(prices[token] + step, 500)
        fault = draw(st.sampled_from([None] * 8 + ["x10", "grid", "zero", "crossed", "year"]))
        row: Row = {"ts": ts, "token": token, "last": units}
        if draw(st.booleans()) and token != NIFTY:
            row |= {"bid": units - 500, "ask": units + 500, "bid_qty": 5, "ask_qty": 7}
        if draw(st.booleans()):
            row |= {"open": units, "high": units + 1000, "low": units - 1000, "close": units}
        row |= {"volume": draw(st.sampled_from([0, 10, 10, -1])), "last_qty": 1}
        row["oi"] = draw(st.sampled_from([None, None, 0, 500]))
        if fault == "x10":
            row["last"] = units * 10
        elif fault == "grid":
            row["last"] = units + 1
        elif fault == "zero":
            row["last"] = draw(st.sampled_from([0, -500]))
        elif fault == "crossed" and "bid" in row:
            row["bid"], row["ask"] = row["ask"], row["bid"]
        elif fault == "year":
            row["ts"] = YEAR_2100_NS
        rows.append(row)
    return rows


@settings(max_examples=200, deadline=None)
@given(rows=row_lists())
def test_columns_reject_exactly_the_rows_a_csv_rejects_and_build_identical_ticks(
    rows: list[Row],
) -> None:
    from_columns = list(validated_ticks(columns_of(rows), REGISTRY))
    from_csv = list(iter_replay(csv_lines(rows), REGISTRY))

    assert [isinstance(i, RejectedRow) for i in from_columns] == [
        isinstance(i, RejectedRow) for i in from_csv
    ]
    for columnar, csv in zip(from_columns, from_csv, strict=True):
        if isinstance(columnar, RejectedRow):
            assert isinstance(csv, RejectedRow)
            assert columnar.error.startswith(f"row {columnar.line}: ")
            assert csv.line == columnar.line + 2  # the CSV counts its header and from 1
        else:
            assert columnar == csv
            units = int(csv.last_price * SCALE)
            assert str(columnar.last_price) == str(price_from_units(units, SCALE))


def in_chunks(rows: list[Row], sizes: list[int]) -> list[TickColumns]:
    """``rows`` cut into consecutive chunks of ``sizes`` (cycled), as a long file is read."""
    chunks, start = [], 0
    while start < len(rows):
        size = sizes[len(chunks) % len(sizes)]
        chunks.append(columns_of(rows[start : start + size]))
        start += size
    return chunks


@settings(max_examples=200, deadline=None)
@given(rows=row_lists(), sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6))
def test_a_file_checked_in_chunks_of_any_size_is_judged_exactly_as_whole(
    rows: list[Row], sizes: list[int]
) -> None:
    whole = list(validated_ticks(columns_of(rows), REGISTRY))

    assert list(validated_chunks(in_chunks(rows, sizes), REGISTRY)) == whole


def test_the_band_and_time_order_carry_across_a_chunk_boundary() -> None:
    rows = [good_row(0), good_row(1), good_row(2, units=150_000_000), good_row(3, units=15_000_500)]
    rows.append(good_row(0))  # earlier than the accepted tick at row 3

    items = list(validated_chunks(in_chunks(rows, [2, 1, 2]), REGISTRY))

    assert [type(i) for i in items] == [Tick, Tick, RejectedRow, Tick, RejectedRow]
    assert isinstance(items[2], RejectedRow) and isinstance(items[4], RejectedRow)
    assert items[2].error.startswith("row 2: ") and "outside the 20 % band" in items[2].error
    assert items[4].error.startswith("row 4: ") and "ts goes back in time" in items[4].error


def test_a_row_after_a_rejected_one_is_compared_with_the_last_accepted_tick() -> None:
    rows = [good_row(0), good_row(1, units=150_000_000), good_row(2, units=15_000_500)]

    items = list(validated_ticks(columns_of(rows), REGISTRY))

    assert isinstance(items[1], RejectedRow)
    assert items[1].line == 1
    assert "outside the 20 % band around its previous price 1500.00" in items[1].error
    assert [type(i) for i in items] == [Tick, RejectedRow, Tick]  # 1500.05 vs 1500.00: fine


def test_each_rejection_names_its_row_and_rule() -> None:
    bad: list[tuple[Row, str]] = [
        (good_row(1, token=UNKNOWN), "unknown instrument token 999999"),
        (good_row(1) | {"last": 15_000_001}, "not a multiple of tick size 0.05"),
        (good_row(1) | {"last": 0}, "last must be positive"),
        (good_row(1) | {"bid": 15_001_000}, "crossed quote: bid 1500.10 above ask 1500.05"),
        (good_row(1) | {"volume": -1}, "volume must be between 0 and"),
        (good_row(1) | {"ts": YEAR_2100_NS}, "is outside the years 2000-2099"),
        (good_row(1) | {"ts": OPEN_NS - 1}, "ts goes back in time for NSE:INFY"),
    ]
    for row, reason in bad:
        items = list(validated_ticks(columns_of([good_row(0), row, good_row(2)]), REGISTRY))

        assert [type(i) for i in items] == [Tick, RejectedRow, Tick], reason
        assert isinstance(items[1], RejectedRow)
        assert items[1].error.startswith("row 1: ") and reason in items[1].error, items[1].error
        assert b"token=" in items[1].raw


def test_an_index_without_a_quote_and_absent_prices_load_as_none() -> None:
    row: Row = {"ts": OPEN_NS, "token": NIFTY, "last": 217_001_200, "oi": None}

    (tick,) = build_ticks(columns_of([row]))

    assert tick == Tick(
        instrument_token=NIFTY, symbol="NSE:NIFTY 50", last_price=Decimal("21700.12"),
        exchange_ts=OPEN_NS,
    )  # fmt: skip
    assert str(tick.last_price) == "21700.12"


def test_prices_print_with_paise_places_and_four_only_when_needed() -> None:
    assert [str(price_from_units(u, SCALE)) for u in (15_000_000, 15_000_500, 15_000_025)] == [
        "1500.00",
        "1500.05",
        "1500.0025",
    ]
