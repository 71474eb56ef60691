"""The tick store's columns, and the exact conversion between ``Tick`` and Arrow.

Prices are int64 in 1/10,000 rupee (``PRICE_SCALE``): every NSE/BSE/MCX/CDS tick size
(0.05, 0.01, 0.0025) is a whole number of those, so a price survives the round trip
exactly and a column loads without per-row string parsing. Absent optional prices are
null, not zero. Market depth is not stored: no replay, backtest or bar needs it, and it
would multiply the file size by ten.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from decimal import Decimal

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from engine.events.payloads import Tick
from engine.market.feeds.columnar import build_ticks

PRICE_SCALE = 10_000
_PRICE_EXPONENT = -4  # Decimal exponent of one PRICE_SCALE unit

PRICE_COLUMNS = ("last", "bid", "ask", "open", "high", "low", "close")
QUANTITY_COLUMNS = ("last_qty", "volume", "bid_qty", "ask_qty")

TICK_SCHEMA = pa.schema(
    [
        pa.field("ts", pa.int64(), nullable=False),  # Tick.exchange_ts, UTC ns
        pa.field("token", pa.int64(), nullable=False),
        pa.field("symbol", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("last", pa.int64(), nullable=False),
        *(pa.field(name, pa.int64()) for name in PRICE_COLUMNS[1:]),
        *(pa.field(name, pa.int64(), nullable=False) for name in QUANTITY_COLUMNS),
        pa.field("oi", pa.int64()),
    ]
)


class PriceScaleError(ValueError):
    """A price finer than 1/10,000 rupee: storing it would change it."""


def scale_price(price: Decimal) -> int:
    """Rupees to 1/10,000 rupee, refusing anything that would be rounded."""
    scaled = price.scaleb(-_PRICE_EXPONENT)
    units = int(scaled)
    if units != scaled:
        raise PriceScaleError(f"price {price} is finer than 1/{PRICE_SCALE:,} rupee")
    return units


def unscale_price(units: int) -> Decimal:
    """1/10,000 rupee to rupees with paise places (4 only when the price needs them)."""
    if units % 100:
        return Decimal(units).scaleb(_PRICE_EXPONENT)
    return Decimal(units // 100).scaleb(-2)


# Ticks become Arrow columns by way of JSON lines: msgspec writes a chunk of ticks in one
# C call and Arrow's JSON reader parses them with the GIL released, so the recorder's
# writer thread holds the GIL the live pipeline needs for about a microsecond per tick
# (a Python loop over the fields took several). Chunks keep each hold to a millisecond or so.
_ENCODE_CHUNK = 1_000
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_TICK_FIELDS = {  # Tick field -> column
    "exchange_ts": "ts",
    "instrument_token": "token",
    "symbol": "symbol",
    "last_price": "last",
    "bid": "bid",
    "ask": "ask",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "last_quantity": "last_qty",
    "volume": "volume",
    "bid_quantity": "bid_qty",
    "ask_quantity": "ask_qty",
    "oi": "oi",
}
_PRICE_FIELDS = {field for field, column in _TICK_FIELDS.items() if column in PRICE_COLUMNS}
_JSON_OPTIONS = pa_json.ParseOptions(
    explicit_schema=pa.schema(
        (
            field,
            pa.float64()
            if field in _PRICE_FIELDS
            else pa.string()
            if field == "symbol"
            else pa.int64(),
        )
        for field in _TICK_FIELDS
    ),
    unexpected_field_behavior="ignore",  # "kind", market depth
)
_READ_OPTIONS = pa_json.ReadOptions(use_threads=False, block_size=1 << 26)
# Within this many units of a whole number a float price is that number: a double holds
# any price below MAX_EXACT_PRICE to 1e-4 units, while a fifth decimal is 0.1 units off.
_TOLERANCE = 0.01
MAX_EXACT_PRICE = 100_000_000  # rupees; above any listed price


def ticks_to_batch(ticks: Sequence[Tick]) -> pa.RecordBatch:
    """One record batch holding ``ticks`` in order (depth dropped, see the module doc)."""
    if not ticks:
        return pa.RecordBatch.from_pylist([], schema=TICK_SCHEMA)
    lines = b"".join(
        _ENCODER.encode_lines(ticks[start : start + _ENCODE_CHUNK])
        for start in range(0, len(ticks), _ENCODE_CHUNK)
    )
    parsed = pa_json.read_json(
        io.BytesIO(lines), read_options=_READ_OPTIONS, parse_options=_JSON_OPTIONS
    ).combine_chunks()
    arrays = []
    for field, column in _TICK_FIELDS.items():
        values = parsed.column(field)
        if field in _PRICE_FIELDS:
            arrays.append(_scaled(values, ticks, field))
        elif column == "symbol":
            arrays.append(values.dictionary_encode().combine_chunks())
        elif column == "oi":
            arrays.append(values.combine_chunks())
        else:  # a zero quantity is left out of the JSON (the struct's default)
            arrays.append(pc.fill_null(values, 0).combine_chunks())
    return pa.RecordBatch.from_arrays(arrays, schema=TICK_SCHEMA)


def _scaled(values: pa.ChunkedArray, ticks: Sequence[Tick], field: str) -> pa.Array:
    """Float rupees to whole 1/10,000 rupees when provably exact; else column by column
    from the Decimals (which refuses a price finer than the store holds, naming it)."""
    array = values.combine_chunks()
    rupees = array.to_numpy(zero_copy_only=False)  # nulls are NaN here
    present = ~np.isnan(rupees)
    units = rupees * PRICE_SCALE
    whole = np.rint(units)
    exact = np.abs(units - whole)[present] <= _TOLERANCE
    if not exact.all() or (rupees[present] > MAX_EXACT_PRICE).any():
        prices = (getattr(tick, field) for tick in ticks)
        return pa.array([None if p is None else scale_price(p) for p in prices], pa.int64())
    mask = ~present if array.null_count else None
    return pa.array(np.where(present, whole, 0).astype(np.int64), pa.int64(), mask=mask)


def table_to_ticks(table: pa.Table) -> Iterator[Tick]:
    """Ticks of a table in its row order: the columnar load path of replays and backtests.

    One conversion per column and one shared Decimal per distinct price
    (``engine.market.feeds.columnar``), not a Python object per cell."""
    from storage.ticks.columns import table_columns  # columns.py builds on this module

    return build_ticks(table_columns(table))
