"""Instruments: the registry of tokens and symbols, and the Kite instruments-dump loader."""

from engine.instruments.csv_loader import (
    InstrumentCsvError,
    LoadResult,
    RowError,
    load_default_registry,
    load_instruments_csv,
    load_registry,
    parse_instruments,
)
from engine.instruments.registry import (
    InstrumentRegistry,
    UnknownInstrument,
    effective_tick,
    is_lot_multiple,
    is_tick_multiple,
    round_to_tick,
)

__all__ = [
    "InstrumentCsvError",
    "InstrumentRegistry",
    "LoadResult",
    "RowError",
    "UnknownInstrument",
    "effective_tick",
    "is_lot_multiple",
    "is_tick_multiple",
    "load_default_registry",
    "load_instruments_csv",
    "load_registry",
    "parse_instruments",
    "round_to_tick",
]
