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

import pyarrow as pa

from engine.events.payloads import Tick

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


def _optional_price(price: Decimal | None) -> int | None:
    return None if price is None else scale_price(price)


def ticks_to_batch(ticks: Sequence[Tick]) -> pa.RecordBatch:
    """One record batch holding ``ticks`` in order (depth dropped, see the module doc)."""
    columns: dict[str, list[object]] = {field.name: [] for field in TICK_SCHEMA}
    for tick in ticks:
        columns["ts"].append(tick.exchange_ts)
        columns["token"].append(tick.instrument_token)
        columns["symbol"].append(tick.symbol)
        columns["last"].append(scale_price(tick.last_price))
        columns["bid"].append(_optional_price(tick.bid))
        columns["ask"].append(_optional_price(tick.ask))
        columns["open"].append(_optional_price(tick.open))
        columns["high"].append(_optional_price(tick.high))
        columns["low"].append(_optional_price(tick.low))
        columns["close"].append(_optional_price(tick.close))
        columns["last_qty"].append(tick.last_quantity)
        columns["volume"].append(tick.volume)
        columns["bid_qty"].append(tick.bid_quantity)
        columns["ask_qty"].append(tick.ask_quantity)
        columns["oi"].append(tick.oi)
    arrays = [
        pa.array(columns["symbol"], pa.string()).dictionary_encode()
        if field.name == "symbol"
        else pa.array(columns[field.name], field.type)
        for field in TICK_SCHEMA
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=TICK_SCHEMA)


def _prices(column: pa.ChunkedArray) -> Iterator[Decimal | None]:
    return (None if units is None else unscale_price(units) for units in column.to_pylist())


def table_to_ticks(table: pa.Table) -> Iterator[Tick]:
    """Ticks of a table in its row order: the columnar load path of replays and backtests."""
    plain = (table.column(name).to_pylist() for name in ("ts", "token", "symbol"))
    prices = (_prices(table.column(name)) for name in PRICE_COLUMNS)
    counts = (table.column(name).to_pylist() for name in (*QUANTITY_COLUMNS, "oi"))
    rows = zip(*plain, *prices, *counts, strict=True)
    for ts, token, symbol, last, bid, ask, open_, high, low, close, lq, vol, bq, aq, oi in rows:
        yield Tick(
            instrument_token=token,
            symbol=symbol,
            last_price=last,
            exchange_ts=ts,
            last_quantity=lq,
            volume=vol,
            bid=bid,
            ask=ask,
            bid_quantity=bq,
            ask_quantity=aq,
            open=open_,
            high=high,
            low=low,
            close=close,
            oi=oi,
        )
