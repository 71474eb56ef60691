"""The replay rules on whole columns: which rows of a recorded file are rejected, and why.

The same rules as the CSV path (``engine.market.feeds.replay``): a known instrument, a
time inside ``TS_YEARS`` and never earlier than the instrument's previous accepted tick,
positive prices on the tick grid below ``MAX_PRICE``, quantities in range, no crossed
quote, and a last price inside the price band around the instrument's previous accepted
price. Each runs once per column with numpy; only the few failing rows are looked at one
by one, to name the reason. The sequence rules compare with the previous *accepted*
tick, so an instrument with a violation is re-walked in order in plain Python.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    instruments = _instruments(columns, registry)
    rejected = rejected_rows(columns, instruments, price_band_pct)
    symbols = {token: instrument.key for token, instrument in instruments.items()}
    return build_checked_ticks(columns, rejected, symbols)


def rejected_rows(
    columns: TickColumns, instruments: dict[int, Instrument], price_band_pct: Decimal
) -> dict[int, str]:
    """Row index → reason, for every row a replay must not trade on."""
    bad = _static_failures(columns, instruments)
    reasons = {i: _static_reason(columns, i, instruments) for i in np.flatnonzero(bad).tolist()}
    reasons.update(_sequence_failures(columns, instruments, ~bad, price_band_pct))
    return reasons


def _instruments(columns: TickColumns, registry: InstrumentRegistry) -> dict[int, Instrument]:
    known = {}
    for token in np.unique(columns.token).tolist():
        try:
            known[token] = registry.by_token(token)
        except UnknownInstrument:
            continue
    return known


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
    price_band_pct: Decimal,
) -> dict[int, str]:
    """Per instrument, among rows that passed the static rules: time going back, or a last
    price outside the band around the previous accepted one."""
    rows = np.flatnonzero(candidates)
    rows = rows[np.argsort(columns.token[rows], kind="stable")]  # by token, file order kept
    tokens, ts, last = columns.token[rows], columns.ts[rows], columns.prices["last"][rows]
    band = Fraction(price_band_pct) / 100
    same = tokens[1:] == tokens[:-1]
    suspect = same & (ts[1:] < ts[:-1])
    if band > 0:
        room = int(last.max(initial=0)) * max(band.denominator, band.numerator)
        if room < _INT64_ROOM:
            moved = np.abs(last[1:] - last[:-1]) * band.denominator
            suspect |= same & (moved > last[:-1] * band.numerator)
        else:  # too large for exact int64 arithmetic: walk every instrument
            suspect = same
    failures: dict[int, str] = {}
    for token in np.unique(tokens[1:][suspect]).tolist():
        walk = rows[tokens == token].tolist()
        failures.update(_walk(columns, walk, instruments[token], band))
    return failures


def _walk(
    columns: TickColumns, rows: list[int], instrument: Instrument, band: Fraction
) -> dict[int, str]:
    """One instrument's rows in file order against its previous accepted tick, exactly."""
    failures = {}
    scale = columns.price_scale
    previous: tuple[int, int] | None = None
    for index in rows:
        ts, units = int(columns.ts[index]), int(columns.prices["last"][index])
        if previous is not None:
            before, price = previous
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
        previous = (ts, units)
    return failures
