"""Instrument registry: the one place that knows tokens, symbols, tick sizes and lot sizes.

Keyed by ``EXCHANGE:TRADINGSYMBOL`` because exchanges reuse tokens after expiry; the token
index always points at the newest instrument that carries it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal

from engine.domain.records import Instrument

# Indices ship with tick_size 0: their prices still move in paise.
_PAISE = Decimal("0.01")


class UnknownInstrument(KeyError):
    """A token or symbol the registry does not know (not in today's instruments dump)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown instrument"


class InstrumentRegistry:
    """Lookup by key (primary) and by token; immutable from the caller's point of view."""

    def __init__(self, instruments: Iterable[Instrument] = ()) -> None:
        self._by_key: dict[str, Instrument] = {}
        self._by_token: dict[int, Instrument] = {}
        for instrument in instruments:
            self.add(instrument)

    def add(self, instrument: Instrument) -> None:
        """Insert or replace by key; a reused token now resolves to this instrument."""
        old = self._by_key.get(instrument.key)
        if old is not None and self._by_token.get(old.instrument_token) is old:
            del self._by_token[old.instrument_token]
        self._by_key[instrument.key] = instrument
        self._by_token[instrument.instrument_token] = instrument

    def by_key(self, key: str) -> Instrument:
        """``"NSE:INFY"``; a bare ``"INFY"`` means NSE. Raises ``UnknownInstrument``."""
        instrument = self._by_key.get(key if ":" in key else f"NSE:{key}")
        if instrument is None:
            raise UnknownInstrument(f"unknown instrument {key!r}")
        return instrument

    def by_token(self, token: int) -> Instrument:
        instrument = self._by_token.get(token)
        if instrument is None:
            raise UnknownInstrument(f"unknown instrument token {token}")
        return instrument

    def get(self, key: str) -> Instrument | None:
        return self._by_key.get(key if ":" in key else f"NSE:{key}")

    def get_by_token(self, token: int) -> Instrument | None:
        return self._by_token.get(token)

    def resolve(self, ref: str | int) -> Instrument:
        """A token (int or digits) or a key, as operators and CSV files write them."""
        if isinstance(ref, int):
            return self.by_token(ref)
        ref = ref.strip()
        return self.by_token(int(ref)) if ref.isdigit() else self.by_key(ref)

    def tradable(self) -> list[Instrument]:
        """Instruments that can carry orders (indices have lot size 0)."""
        return [i for i in self._by_key.values() if i.lot_size > 0 and i.tick_size > 0]

    def keys(self) -> list[str]:
        return list(self._by_key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)


def effective_tick(instrument: Instrument) -> Decimal:
    """The price step: the instrument's tick size, or one paisa when Kite ships 0 (indices)."""
    return instrument.tick_size if instrument.tick_size > 0 else _PAISE


def round_to_tick(price: Decimal, instrument: Instrument, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Nearest tick-size multiple (half up by default), with the tick's number of decimals."""
    tick = effective_tick(instrument)
    steps = (price / tick).to_integral_value(rounding=rounding)
    return (steps * tick).quantize(tick)


def is_tick_multiple(price: Decimal, instrument: Instrument) -> bool:
    return price % effective_tick(instrument) == 0


def is_lot_multiple(quantity: int, instrument: Instrument) -> bool:
    """Positive and a whole number of lots; never true for untradable lot size 0."""
    lot = instrument.lot_size
    return lot > 0 and quantity > 0 and quantity % lot == 0
