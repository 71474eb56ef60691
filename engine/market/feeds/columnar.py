"""Ticks from columns: the fast load path of recorded files (no per-row text parsing).

A recorded day arrives as integer columns (prices in ``1/price_scale`` rupee). Ticks are
built a chunk at a time, straight from the columns: each distinct price of a chunk
becomes one shared ``Decimal`` and a ``Tick`` is built from positional fields, so
loading costs well under a microsecond a tick and memory stays flat over a long day.
The checks that decide which rows are rejected are in ``column_checks``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from engine.events.payloads import Tick
from engine.market.feeds.base import RejectedRow

Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

PRICE_NAMES = ("last", "bid", "ask", "open", "high", "low", "close")
QUANTITY_NAMES = ("last_qty", "volume", "bid_qty", "ask_qty")
_CHUNK_ROWS = 65_536  # ticks built at a time: memory stays flat over a long day


@dataclass(frozen=True, slots=True)
class TickColumns:
    """One table of ticks as numpy columns, in file order.

    ``prices`` holds every name of ``PRICE_NAMES`` in ``1/price_scale`` rupee and
    ``quantities`` every name of ``QUANTITY_NAMES``; ``nulls`` marks absent values of the
    nullable columns (a price or ``oi``; an absent quantity is 0, as in a CSV).
    ``symbol`` is each row's recorded name as an index into ``symbol_names``.
    """

    ts: Int64s
    token: Int64s
    prices: Mapping[str, Int64s]
    quantities: Mapping[str, Int64s]
    oi: Int64s
    nulls: Mapping[str, Bools]
    symbol: Int64s
    symbol_names: Sequence[str]
    price_scale: int

    def __len__(self) -> int:
        return len(self.ts)


def price_from_units(units: int, price_scale: int) -> Decimal:
    """Scaled units (``price_scale`` a power of ten, at least 100) to rupees with paise
    places, more only when the price needs them: the Decimal a CSV export prints, so a
    recorded day and its CSV give identical ticks."""
    places = len(str(price_scale)) - 1
    per_paisa = price_scale // 100
    if units % per_paisa == 0:
        return Decimal(units // per_paisa).scaleb(-2)
    return Decimal(units).scaleb(-places)


def build_ticks(columns: TickColumns) -> Iterator[Tick]:
    """Every row as a ``Tick``, in row order, named as recorded (no checks: the store's
    own ticks, which the engine accepted when it recorded them)."""
    prices: dict[int, Decimal] = {}
    for start in range(0, len(columns), _CHUNK_ROWS):
        yield from _chunk_ticks(columns, None, start, prices)


def build_checked_ticks(
    columns: TickColumns,
    rejected: Mapping[int, str],
    symbols: Mapping[int, str],
    *,
    first_row: int = 0,
    prices: dict[int, Decimal] | None = None,
) -> Iterator[Tick | RejectedRow]:
    """Ticks in row order, named by ``symbols``; rows in ``rejected`` (index → reason)
    come out as ``RejectedRow`` instead, numbered from ``first_row`` (where these columns
    start in their file). ``prices`` shares Decimals with the file's other chunks."""
    shared: dict[int, Decimal] = {} if prices is None else prices
    for start in range(0, len(columns), _CHUNK_ROWS):
        chunk: list[Tick | RejectedRow] = list(_chunk_ticks(columns, symbols, start, shared))
        for index in (i for i in rejected if start <= i < start + len(chunk)):
            row = first_row + index
            reason = f"row {row}: {rejected[index]}"
            chunk[index - start] = RejectedRow(row, reason, _row_bytes(columns, index))
        yield from chunk


def _chunk_ticks(
    columns: TickColumns,
    names: Mapping[int, str] | None,
    start: int,
    prices: dict[int, Decimal],
) -> list[Tick]:
    """Ticks of rows ``start`` to ``start + _CHUNK_ROWS``: plain lists zipped, keyword
    arguments spelled out (the cheapest way to build a keyword-only struct). ``names``
    by token, or None for the recorded ones; ``prices`` holds the Decimal of every price
    seen so far, shared by all columns and chunks."""
    window = slice(start, start + _CHUNK_ROWS)
    tokens = columns.token[window].tolist()
    symbols: Iterator[str | None]
    if names is None:
        recorded = list(columns.symbol_names)
        symbols = map(recorded.__getitem__, columns.symbol[window].tolist())
    else:
        symbols = map(names.get, tokens)  # None only in a row that is rejected
    price = {n: _decimals(columns, n, window, prices) for n in PRICE_NAMES}
    quantity = {n: columns.quantities[n][window].tolist() for n in QUANTITY_NAMES}
    rows = zip(
        tokens,
        symbols,
        columns.ts[window].tolist(),
        price["last"],
        price["bid"],
        price["ask"],
        price["open"],
        price["high"],
        price["low"],
        price["close"],
        quantity["last_qty"],
        quantity["volume"],
        quantity["bid_qty"],
        quantity["ask_qty"],
        _optional_ints(columns, window),
        strict=True,
    )
    return [
        Tick(
            instrument_token=token,
            symbol=symbol,  # None only in a rejected row (see the zip above)
            last_price=last,
            exchange_ts=ts,
            bid=bid,
            ask=ask,
            open=open_,
            high=high,
            low=low,
            close=close,
            last_quantity=last_qty,
            volume=volume,
            bid_quantity=bid_qty,
            ask_quantity=ask_qty,
            oi=oi,
        )
        for (
            token,
            symbol,
            ts,
            last,
            bid,
            ask,
            open_,
            high,
            low,
            close,
            last_qty,
            volume,
            bid_qty,
            ask_qty,
            oi,
        ) in rows
    ]


def _decimals(
    columns: TickColumns, name: str, window: slice, prices: dict[int, Decimal]
) -> list[Decimal | None]:
    """The window's prices, each distinct one a single shared Decimal; None where absent."""
    nulls = columns.nulls.get(name)
    units = columns.prices[name][window].tolist()
    if nulls is not None and nulls[window].all():
        return [None] * len(units)
    values: list[Decimal | None]
    try:
        values = list(map(prices.__getitem__, units))
    except KeyError:  # prices not seen before: make each once
        for unseen in set(units).difference(prices):
            prices[unseen] = price_from_units(unseen, columns.price_scale)
        values = list(map(prices.__getitem__, units))
    if nulls is not None:
        for i in np.flatnonzero(nulls[window]).tolist():
            values[i] = None
    return values


def _optional_ints(columns: TickColumns, window: slice) -> list[int | None]:
    values: list[int | None] = list(columns.oi[window].tolist())
    nulls = columns.nulls.get("oi")
    if nulls is not None:
        for i in np.flatnonzero(nulls[window]).tolist():
            values[i] = None
    return values


def _row_bytes(columns: TickColumns, index: int) -> bytes:
    """The rejected row as ``name=value`` pairs: what a dead letter keeps of it."""
    cells = [f"ts={columns.ts[index]}", f"token={columns.token[index]}"]
    for name in PRICE_NAMES:
        nulls = columns.nulls.get(name)
        absent = nulls is not None and bool(nulls[index])
        cells.append(f"{name}={'' if absent else columns.prices[name][index]}")
    cells += [f"{n}={columns.quantities[n][index]}" for n in QUANTITY_NAMES]
    return ",".join(cells).encode()
