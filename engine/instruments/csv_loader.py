"""Load Kite's instruments dump (the daily CSV, plain or gzipped) into ``Instrument`` rows.

The dump is input from a boundary: each row is validated, and a bad row is reported with
its line number instead of aborting the load, so one odd contract never hides the rest.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from engine.domain.records import Instrument
from engine.instruments.registry import InstrumentRegistry

KITE_COLUMNS = (
    "instrument_token",
    "exchange_token",
    "tradingsymbol",
    "name",
    "last_price",
    "expiry",
    "strike",
    "tick_size",
    "lot_size",
    "instrument_type",
    "segment",
    "exchange",
)
_GZIP_MAGIC = b"\x1f\x8b"


class InstrumentCsvError(ValueError):
    """The file as a whole is unusable (not CSV, or Kite's columns are missing)."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str
    raw: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class LoadResult:
    instruments: list[Instrument] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_instruments(data: bytes | str) -> LoadResult:
    """Parse a dump; gzipped bytes are detected by their magic number."""
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in KITE_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InstrumentCsvError(f"not a Kite instruments dump: missing columns {missing}")
    result = LoadResult()
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        raw = ",".join(str(row.get(c, "")) for c in KITE_COLUMNS)
        try:
            instrument = _instrument(row)
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc), raw))
            continue
        if instrument.key in seen:
            first = seen[instrument.key]
            message = f"duplicate {instrument.key} (first on line {first})"
            result.errors.append(RowError(line, message, raw))
            continue
        seen[instrument.key] = line
        result.instruments.append(instrument)
    return result


def load_instruments_csv(path: str | Path) -> LoadResult:
    return parse_instruments(Path(path).read_bytes())


def load_registry(path: str | Path) -> InstrumentRegistry:
    return InstrumentRegistry(load_instruments_csv(path).instruments)


def load_default_registry() -> InstrumentRegistry:
    """The bundled sample: about 50 liquid NSE equities and the two main indices."""
    data = resources.files("engine.instruments").joinpath("data", "nse_sample.csv").read_bytes()
    return InstrumentRegistry(parse_instruments(data).instruments)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InstrumentCsvError(f"corrupt gzip: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstrumentCsvError(f"not UTF-8 text: {exc}") from exc


def _instrument(row: dict[str, str | None]) -> Instrument:
    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    symbol, exchange = text("tradingsymbol"), text("exchange")
    if not symbol or not exchange:
        raise ValueError("tradingsymbol and exchange are required")
    tick_size = _decimal(text("tick_size"), "tick_size")
    lot_size = _int(text("lot_size"), "lot_size")
    if tick_size < 0 or lot_size < 0:
        raise ValueError(f"negative tick_size {tick_size} or lot_size {lot_size}")
    expiry = text("expiry")
    try:
        expiry_date = date.fromisoformat(expiry) if expiry else None
    except ValueError:
        raise ValueError(f"expiry {expiry!r} is not a date (YYYY-MM-DD)") from None
    token = _int(text("instrument_token"), "instrument_token")
    if token <= 0:
        raise ValueError(f"instrument_token must be positive, got {token}")
    return Instrument(
        instrument_token=token,
        exchange_token=_int(text("exchange_token") or "0", "exchange_token"),
        tradingsymbol=symbol,
        name=text("name"),
        exchange=exchange,
        segment=text("segment"),
        instrument_type=text("instrument_type"),
        tick_size=tick_size,
        lot_size=lot_size,
        last_price=_decimal(text("last_price") or "0", "last_price"),
        expiry=expiry_date,
        strike=_decimal(text("strike") or "0", "strike"),
    )


def _int(value: str, column: str) -> int:
    try:
        return int(value)
    except ValueError:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{column} {value!r} is not a number") from None
        if number != number.to_integral_value():
            raise ValueError(f"{column} {value!r} is not a whole number") from None
        return int(number)


def _decimal(value: str, column: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{column} {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{column} {value!r} is not a finite number")
    return number
