"""The tick store's columns, and the exact conversion between ``Tick`` and Arrow.

Prices are int64 in 1/10,000 rupee (``PRICE_SCALE``): every NSE/BSE/MCX/CDS tick size
(0.05, 0.01, 0.0025) is a whole number of those, so a price survives the round trip
exactly and a column loads without per-row string parsing. Absent optional prices are
null, not zero. Market depth is not stored: no replay, backtest or bar needs it, and it
would multiply the file size by ten.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from msgspec.structs import astuple

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


# Ticks become columns a chunk at a time, with no Python bytecode per tick or per field:
# ``msgspec.structs.astuple`` takes every field of the chunk's ticks into one flat list in
# C (cheaper than ``attrgetter``, which looks each name up), every column is a strided
# slice of it, and Arrow converts all seven price columns in one call and all seven
# integer columns in another (then sliced apart, zero-copy). The prices dominate: Arrow
# reads a Decimal through its text, ~0.3 microseconds each on the shared box. A chunk
# bounds how long one call holds the GIL the event loop needs: the price call of 512 ticks
# (3,584 prices) takes ~0.8 ms of CPU on that box (1,024 ticks: 1.6 ms, for no gain).
_CHUNK = 512
_FIELD_OF = {  # column -> Tick field
    "ts": "exchange_ts",
    "token": "instrument_token",
    "symbol": "symbol",
    "last": "last_price",
    "bid": "bid",
    "ask": "ask",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "last_qty": "last_quantity",
    "volume": "volume",
    "bid_qty": "bid_quantity",
    "ask_qty": "ask_quantity",
    "oi": "oi",
}
_WIDTH = len(Tick.__struct_fields__)  # astuple's width: every field, depth included
_AT = {column: Tick.__struct_fields__.index(field) for column, field in _FIELD_OF.items()}
_INT_COLUMNS = tuple(c for c in TICK_SCHEMA.names if c not in PRICE_COLUMNS and c != "symbol")
# Where each schema column comes from: (kind, index within its kind's combined array).
_SOURCES = [
    ("price", PRICE_COLUMNS.index(c))
    if c in PRICE_COLUMNS
    else ("int", _INT_COLUMNS.index(c))
    if c in _INT_COLUMNS
    else ("symbol", 0)
    for c in TICK_SCHEMA.names
]
# A price as an Arrow decimal with PRICE_SCALE's four places: Arrow reads the Decimal's
# digits (never a float) and refuses a rescale that would drop one, so the unscaled
# integer of the column *is* the price in 1/10,000 rupee, exactly.
_IN_UNITS = pa.decimal128(18, -_PRICE_EXPONENT)
_UNSCALED = pa.decimal128(18, 0)


def ticks_to_batch(ticks: Sequence[Tick]) -> pa.RecordBatch:
    """One record batch holding ``ticks`` in order (depth dropped, see the module doc)."""
    if not ticks:
        return pa.RecordBatch.from_pylist([], schema=TICK_SCHEMA)
    chunks = [
        _chunk_columns(ticks[start : start + _CHUNK]) for start in range(0, len(ticks), _CHUNK)
    ]
    arrays = [pa.concat_arrays(parts) for parts in zip(*chunks, strict=True)]
    symbol = TICK_SCHEMA.get_field_index("symbol")
    arrays[symbol] = arrays[symbol].dictionary_encode()
    return pa.RecordBatch.from_arrays(arrays, schema=TICK_SCHEMA)


def _chunk_columns(ticks: Sequence[Tick]) -> list[pa.Array]:
    """The chunk's columns (symbol still plain strings: encoded once for the batch)."""
    row = list(chain.from_iterable(map(astuple, ticks)))
    count = len(ticks)
    if len(row) != count * _WIDTH:  # a subclass's extra fields would shift every column
        raise TypeError("ticks_to_batch takes Tick structs (not subclasses)")

    def gathered(columns: Sequence[str]) -> list[Any]:
        """The columns' values one column after another (the layout ``_SOURCES`` slices)."""
        return list(chain.from_iterable(row[_AT[column] :: _WIDTH] for column in columns))

    combined = {
        "price": _scaled(gathered(PRICE_COLUMNS)),
        "int": pa.array(gathered(_INT_COLUMNS), pa.int64()),
        "symbol": pa.array(row[_AT["symbol"] :: _WIDTH], pa.string()),
    }
    return [combined[kind].slice(index * count, count) for kind, index in _SOURCES]


def _scaled(prices: list[Decimal | None]) -> pa.Array:
    """Rupees to whole 1/10,000 rupees, exactly. A price Arrow will not take (finer than
    the store holds, beyond 18 digits, not a number) goes through ``scale_price``, which
    names a refused price and stores any other exactly."""
    try:
        return pc.cast(pa.array(prices, _IN_UNITS).view(_UNSCALED), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if p is None else scale_price(p) for p in prices], pa.int64())


def table_to_ticks(table: pa.Table) -> Iterator[Tick]:
    """Ticks of a table in its row order: the columnar load path of replays and backtests.

    One conversion per column and one shared Decimal per distinct price
    (``engine.market.feeds.columnar``), not a Python object per cell."""
    from storage.ticks.columns import table_columns  # columns.py builds on this module

    return build_ticks(table_columns(table))
