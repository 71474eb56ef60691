"""The replay rules on whole columns: which rows of a recorded file are rejected, and why.

The same rules as the CSV path (``engine.market.feeds.replay``): a known instrument, a
time inside ``TS_YEARS`` and never earlier than the instrument's previous accepted tick,
positive prices on the tick grid below ``MAX_PRICE``, quantities in range, no crossed
quote, and a last price inside the price band around the instrument's previous accepted
price. Each runs once per column with numpy; only the few failing rows are looked at one
by one, to name the reason. The sequence rules compare with the previous *accepted*
tick, so an instrument with a violation is re-walked in order in plain Python.

A long file is checked a chunk at a time (``ColumnChecks``): each instrument's previous
accepted tick and the row count carry over from one chunk to the next, so a file read in
chunks of any size is judged exactly as if it were read whole, in memory that does not
grow with the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import numpy as np

from engine.clock import IST, datetime_to_ns
from engine.domain.records import Instrument
from engine.events.payloads import Tick
from engine.instruments.registry import InstrumentRegistry, UnknownInstrument, effective_tick
from engine.market.feeds.base import RejectedRow
from engine.market.feeds.columnar import (
    PRICE_NAMES,
    QUANTITY_NAMES,
    Bools,
    Int64s,
    TickColumns,
    build_checked_ticks,
    price_from_units,
)
from engine.market.feeds.replay import DEFAULT_PRICE_BAND_PCT, MAX_PRICE, TS_YEARS

MAX_QUANTITY = 10**15  # as the CSV path: inside int64 with room
_TS_LOW = datetime_to_ns(datetime(TS_YEARS[0], 1, 1, tzinfo=IST))
_TS_HIGH = datetime_to_ns(datetime(TS_YEARS[1] + 1, 1, 1, tzinfo=IST))  # exclusive
_INT64_ROOM = 2**62  # products below this cannot wrap in int64 arithmetic


def validated_ticks(
    columns: TickColumns,
    registry: InstrumentRegistry,
    *,
    price_band_pct: Decimal = DEFAULT_PRICE_BAND_PCT,
) -> Iterator[Tick | RejectedRow]:
    """Ticks of ``columns`` that pass the replay rules, named as the registry names
    them, in row order; the others as ``RejectedRow`` with their row index."""
    return validated_chunks([columns], registry, price_band_pct=price_band_pct)


def validated_chunks(
    chunks: Iterable[TickColumns],
    registry: InstrumentRegistry,
    *,
    price_band_pct: Decimal = DEFAULT_PRICE_BAND_PCT,
) -> Iterator[Tick | RejectedRow]:
    """``validated_ticks`` of the file the ``chunks`` make up, in order, each chunk
    checked and built when it is reached and then dropped."""
    checks = ColumnChecks(registry, price_band_pct)
    for columns in chunks:
        yield from checks.chunk_items(columns)


class ColumnChecks:
    """The replay rules over one file read in consecutive chunks: what a rule needs from
    earlier rows (each instrument's previous accepted tick, the row number) is kept here."""

    def __init__(self, registry: InstrumentRegistry, price_band_pct: Decimal) -> None:
        self._registry = registry
        self._band = Fraction(price_band_pct) / 100
        self._instruments: dict[int, Instrument] = {}
        self._unknown: set[int] = set()
        self._previous: dict[int, tuple[int, int]] = {}  # token -> (ts, last units)
        self._prices: dict[int, Decimal] = {}  # shared Decimals, as in one whole file
        self._rows = 0

    def chunk_items(self, columns: TickColumns) -> Iterator[Tick | RejectedRow]:
        """The next chunk's ticks and rejected rows (row numbers counted from the file's
        first row)."""
        instruments = self._known(columns)
        bad = _static_failures(columns, instruments)
        rejected = {
            i: _static_reason(columns, i, instruments) for i in np.flatnonzero(bad).tolist()
        }
        rejected.update(_sequence_failures(columns, instruments, ~bad, self._band, self._previous))
        symbols = {token: instrument.key for token, instrument in instruments.items()}
        first_row, self._rows = self._rows, self._rows + len(columns)
        return build_checked_ticks(
            columns, rejected, symbols, first_row=first_row, prices=self._prices
        )

    def _known(self, columns: TickColumns) -> dict[int, Instrument]:
        """Instruments of every known token seen so far (a superset of this chunk's)."""
        for token in np.unique(columns.token).tolist():
            if token in self._instruments or token in self._unknown:
                continue
            try:
                self._instruments[token] = self._registry.by_token(token)
            except UnknownInstrument:
                self._unknown.add(token)
        return self._instruments


def _tick_units(instrument: Instrument, price_scale: int) -> Fraction:
    """The instrument's price step in scaled units, exact (0.05 at 10,000 a rupee: 500)."""
    return Fraction(effective_tick(instrument)) * price_scale


def _per_row(columns: TickColumns, values: dict[int, int], default: int) -> Int64s:
    """``values`` by token spread over the rows (``default`` for other tokens)."""
    tokens, inverse = np.unique(columns.token, return_inverse=True)
    table = np.array([values.get(t, default) for t in tokens.tolist()], dtype=np.int64)
    return table[inverse.reshape(-1)]


def _absent(columns: TickColumns, name: str) -> Bools:
    nulls = columns.nulls.get(name)
    return nulls if nulls is not None else np.zeros(len(columns), dtype=np.bool_)


def _is_absent(columns: TickColumns, name: str, index: int) -> bool:
    nulls = columns.nulls.get(name)
    return nulls is not None and bool(nulls[index])


def _static_failures(columns: TickColumns, instruments: dict[int, Instrument]) -> Bools:
    """Rows failing a rule that needs no other row."""
    scale = columns.price_scale
    steps = {t: _tick_units(i, scale) for t, i in instruments.items()}
    numerator = _per_row(columns, {t: s.numerator for t, s in steps.items()}, 1)
    denominator = _per_row(columns, {t: s.denominator for t, s in steps.items()}, 1)
    bad = ~np.isin(columns.token, np.array(list(instruments), dtype=np.int64))
    bad |= (columns.ts < _TS_LOW) | (columns.ts >= _TS_HIGH)
    bad |= _absent(columns, "last")
    ceiling = int(MAX_PRICE) * scale
    for name in PRICE_NAMES:
        units = columns.prices[name]
        off_grid = (units * denominator) % numerator != 0
        bad |= ~_absent(columns, name) & ((units <= 0) | (units > ceiling) | off_grid)
    for name in QUANTITY_NAMES:
        quantity = columns.quantities[name]
        bad |= (quantity < 0) | (quantity > MAX_QUANTITY)
    bad |= ~_absent(columns, "oi") & ((columns.oi < 0) | (columns.oi > MAX_QUANTITY))
    quoted = ~_absent(columns, "bid") & ~_absent(columns, "ask")
    bad |= quoted & (columns.prices["bid"] > columns.prices["ask"])
    return bad


def _static_reason(columns: TickColumns, index: int, instruments: dict[int, Instrument]) -> str:
    """The first rule row ``index`` breaks, in the CSV path's words."""
    token = int(columns.token[index])
    instrument = instruments.get(token)
    if instrument is None:
        return f"unknown instrument token {token}"
    scale = columns.price_scale
    step = _tick_units(instrument, scale)
    for name in PRICE_NAMES:
        if _is_absent(columns, name, index):
            if name == "last":
                return "no last price"
            continue
        units = int(columns.prices[name][index])
        shown = price_from_units(units, scale) if units > 0 else units / scale
        if units <= 0:
            return f"{name} must be positive, got {shown}"
        if units > int(MAX_PRICE) * scale:
            return f"{name} {shown} is above any listed price ({MAX_PRICE:,})"
        if Fraction(units) % step:
            return (
                f"{name} {shown} is not a multiple of tick size {instrument.tick_size} "
                f"for {instrument.key}"
            )
    for name in (*QUANTITY_NAMES, "oi"):
        value = int(columns.oi[index] if name == "oi" else columns.quantities[name][index])
        if not 0 <= value <= MAX_QUANTITY and not (
            name == "oi" and _is_absent(columns, "oi", index)
        ):
            return f"{name} must be between 0 and {MAX_QUANTITY:,}, got {value}"
    bid, ask = columns.prices["bid"][index], columns.prices["ask"][index]
    if (
        not _is_absent(columns, "bid", index)
        and not _is_absent(columns, "ask", index)
        and bid > ask
    ):
        return (
            f"crossed quote: bid {price_from_units(int(bid), scale)} above ask "
            f"{price_from_units(int(ask), scale)}"
        )
    low, high = TS_YEARS
    return f"ts {int(columns.ts[index])} ns is outside the years {low}-{high}"


def _sequence_failures(
    columns: TickColumns,
    instruments: dict[int, Instrument],
    candidates: Bools,
    band: Fraction,
    previous: dict[int, tuple[int, int]],
) -> dict[int, str]:
    """Per instrument, among rows that passed the static rules: time going back, or a last
    price outside the band around the previous accepted one. ``previous`` holds each
    instrument's last accepted (ts, last units) before this chunk, and is moved on."""
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return {}
    rows = rows[np.argsort(columns.token[rows], kind="stable")]  # by token, file order kept
    tokens, ts, last = columns.token[rows], columns.ts[rows], columns.prices["last"][rows]
    starts = np.flatnonzero(np.concatenate(([True], tokens[1:] != tokens[:-1])))
    ends = np.append(starts[1:], len(rows))
    has_before = np.concatenate(([False], tokens[1:] == tokens[:-1]))
    ts_before = np.concatenate(([0], ts[:-1])).astype(np.int64)
    last_before = np.concatenate(([0], last[:-1])).astype(np.int64)
    for start in starts.tolist():  # an instrument's first row follows the earlier chunks'
        carried = previous.get(int(tokens[start]))
        if carried is not None:
            has_before[start] = True
            ts_before[start], last_before[start] = carried
    suspect = has_before & (ts < ts_before)
    if band > 0:
        highest = max(int(last.max()), int(last_before.max()))
        if highest * max(band.denominator, band.numerator) < _INT64_ROOM:
            moved = np.abs(last - last_before) * band.denominator
            suspect |= has_before & (moved > last_before * band.numerator)
        else:  # too large for exact int64 arithmetic: walk every instrument
            suspect = has_before
    failures: dict[int, str] = {}
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        token = int(tokens[start])
        if suspect[start:end].any():
            walk = rows[start:end].tolist()
            failures.update(_walk(columns, walk, instruments[token], band, previous))
        else:
            previous[token] = (int(ts[end - 1]), int(last[end - 1]))
    return failures


def _walk(
    columns: TickColumns,
    rows: list[int],
    instrument: Instrument,
    band: Fraction,
    previous: dict[int, tuple[int, int]],
) -> dict[int, str]:
    """One instrument's rows in file order against its previous accepted tick, exactly;
    ``previous`` is left holding the last one accepted."""
    failures = {}
    scale = columns.price_scale
    token = instrument.instrument_token
    for index in rows:
        ts, units = int(columns.ts[index]), int(columns.prices["last"][index])
        if token in previous:
            before, price = previous[token]
            if ts < before:
                failures[index] = (
                    f"ts goes back in time for {instrument.key} (before its previous tick)"
                )
                continue
            if band > 0 and abs(units - price) > price * band:
                failures[index] = (
                    f"last_price {price_from_units(units, scale)} for {instrument.key} is "
                    f"outside the {float(band * 100):g} % band around its previous price "
                    f"{price_from_units(price, scale)}"
                )
                continue
        previous[token] = (ts, units)
    return failures
