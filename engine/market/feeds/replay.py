"""Replay recorded ticks from CSV, validating every row at the boundary.

Columns: ``ts`` (ISO 8601; a naive time is Asia/Kolkata, as Kite records it),
``instrument_token`` or ``symbol`` ("NSE:INFY" or "INFY"), ``last_price``, and optionally
``volume, last_quantity, bid, ask, bid_quantity, ask_quantity, open, high, low, close, oi``.
A bad row becomes a dead letter naming its line number; the replay carries on. A row is
bad when it cannot be decoded, is longer than ``MAX_LINE_BYTES``, has a time outside
``TS_YEARS`` or earlier than the instrument's previous tick, or a price further than the
price band from the instrument's previous accepted price (a circuit-limit style check:
one row at 10× the price must not be traded on). A file that cannot be read as a whole
(no header, not text, a corrupt gzip stream) raises ``ReplayFormatError``: never a silent
partial replay.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from engine.bus.base import EventBus
from engine.clock import IST, Clock, datetime_to_ns
from engine.domain.records import Instrument
from engine.events.payloads import Tick
from engine.instruments.registry import InstrumentRegistry, is_tick_multiple
from engine.market.feeds.base import FeedService, RejectedRow

_PRICE_COLUMNS = ("bid", "ask", "open", "high", "low", "close")
_QUANTITY_COLUMNS = ("volume", "last_quantity", "bid_quantity", "ask_quantity")
MAX_LINE_BYTES = 64 * 1024  # a tick row is ~100 bytes; far longer is not a tick
TS_YEARS = (2000, 2099)  # also keeps event times inside int64 nanoseconds
MAX_PRICE = Decimal(100_000_000)  # above any listed NSE/BSE price, even MRF's
DEFAULT_PRICE_BAND_PCT = Decimal(20)  # NSE's widest circuit band
_MAX_QUANTITY = 10**15  # inside int64 with room: volume and open interest included


class ReplayFormatError(ValueError):
    """The file as a whole cannot be replayed (no header, or required columns missing)."""


def read_lines(path: str | Path) -> Iterator[bytes]:
    """Lines of a plain or gzipped file, without line endings.

    A corrupt or truncated gzip stream is a ``ReplayFormatError`` naming the last good
    line, so the replay stops loudly instead of ending early as if the file were done.
    """
    path = Path(path)
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    line_no = 0
    try:
        with opener(path, "rb") as handle:
            for line in handle:
                line_no += 1
                yield line.rstrip(b"\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise ReplayFormatError(
            f"{path}: cannot read past line {line_no}: {exc or type(exc).__name__}"
        ) from None


def iter_replay(
    lines: Iterable[bytes],
    registry: InstrumentRegistry,
    *,
    price_band_pct: Decimal = DEFAULT_PRICE_BAND_PCT,
) -> Iterator[Tick | RejectedRow]:
    """Ticks in file order; rows that fail validation come out as ``RejectedRow``."""
    numbered = enumerate(lines, start=1)
    header: list[str] | None = None
    for _, raw in numbered:
        if raw.strip():
            header = _header(raw)
            break
    if header is None:
        raise ReplayFormatError("empty tick file: expected a header row")
    _check_header(header)
    band = price_band_pct / 100
    last: dict[int, tuple[int, Decimal]] = {}  # token -> (ts, price) of its last good tick
    rows = 0
    for line_no, raw in numbered:
        if not raw.strip():
            continue
        rows += 1
        try:
            if len(raw) > MAX_LINE_BYTES:
                raise ValueError(f"row of {len(raw):,} bytes (at most {MAX_LINE_BYTES:,})")
            tick = _parse_row(header, raw, registry)
            _check_sequence(tick, last.get(tick.instrument_token), band)
        except Exception as exc:  # no row may stop the replay
            reason = str(exc) or type(exc).__name__
            yield RejectedRow(line_no, f"line {line_no}: {reason}", raw[:MAX_LINE_BYTES])
            continue
        last[tick.instrument_token] = (tick.exchange_ts, tick.last_price)
        yield tick
    if not rows:  # a header alone would "replay" nothing and look like a finished run
        raise ReplayFormatError("tick file holds a header but no rows")


def _header(raw: bytes) -> list[str]:
    if len(raw) > MAX_LINE_BYTES:
        raise ReplayFormatError(f"tick file header is {len(raw):,} bytes: not a tick file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReplayFormatError("tick file is not UTF-8 text (binary, or UTF-16?)") from None
    if "\x00" in text:
        raise ReplayFormatError("tick file header holds NUL bytes: binary, or UTF-16?")
    try:
        return [h.strip().lower() for h in next(csv.reader([text]))]
    except csv.Error as exc:
        raise ReplayFormatError(f"tick file header is not CSV: {exc}") from None


def _check_sequence(tick: Tick, previous: tuple[int, Decimal] | None, band: Decimal) -> None:
    """Per instrument: time never goes back, and the price stays inside the band."""
    if previous is None:
        return
    ts, price = previous
    if tick.exchange_ts < ts:
        raise ValueError(f"ts goes back in time for {tick.symbol} (before its previous tick)")
    if band > 0 and abs(tick.last_price - price) > price * band:
        raise ValueError(
            f"last_price {tick.last_price} for {tick.symbol} is outside the "
            f"{(band * 100).normalize():f} % band around its previous price {price}"
        )


def _check_header(header: list[str]) -> None:
    missing = [c for c in ("ts", "last_price") if c not in header]
    if "instrument_token" not in header and "symbol" not in header:
        missing.append("instrument_token or symbol")
    if missing:
        raise ReplayFormatError(f"tick file header lacks {', '.join(missing)}: got {header}")


def _parse_row(header: list[str], raw: bytes, registry: InstrumentRegistry) -> Tick:
    try:
        cells = next(csv.reader([raw.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"unreadable row: {exc}") from None
    if len(cells) != len(header):
        raise ValueError(f"expected {len(header)} columns, found {len(cells)}")
    row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    instrument = _instrument(row, registry)
    optional: dict[str, object] = {}
    for column in _PRICE_COLUMNS:
        if row.get(column):
            optional[column] = _price(row[column], column, instrument)
    for column in _QUANTITY_COLUMNS:
        if row.get(column):
            optional[column] = _quantity(row[column], column)
    if row.get("oi"):
        optional["oi"] = _quantity(row["oi"], "oi")
    bid, ask = optional.get("bid"), optional.get("ask")
    if isinstance(bid, Decimal) and isinstance(ask, Decimal) and bid > ask:
        raise ValueError(f"crossed quote: bid {bid} above ask {ask}")
    return Tick(
        instrument_token=instrument.instrument_token,
        symbol=instrument.key,
        last_price=_price(row["last_price"], "last_price", instrument),
        exchange_ts=parse_exchange_ts(row["ts"]),
        **optional,  # type: ignore[arg-type]  # each key's value has its own column's type
    )


def _instrument(row: dict[str, str], registry: InstrumentRegistry) -> Instrument:
    token = row.get("instrument_token", "")
    if token:
        if not token.isdigit():
            raise ValueError(f"instrument_token {token!r} is not a number")
        return registry.by_token(int(token))
    symbol = row.get("symbol", "")
    if not symbol:
        raise ValueError("no instrument_token or symbol")
    return registry.by_key(symbol)


def parse_exchange_ts(text: str) -> int:
    """ISO 8601 to UTC ns; a naive time is Asia/Kolkata (Kite's exchange time), never UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unparseable ts {text!r} (want ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=IST)
    low, high = TS_YEARS
    if not low <= moment.year <= high:
        raise ValueError(f"ts {text!r} is outside the years {low}-{high}")
    return datetime_to_ns(moment)


def _price(text: str, column: str, instrument: Instrument) -> Decimal:
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not price.is_finite() or price <= 0:
        raise ValueError(f"{column} must be positive, got {text}")
    if price > MAX_PRICE:
        raise ValueError(f"{column} {text} is above any listed price ({MAX_PRICE:,})")
    if not is_tick_multiple(price, instrument):
        raise ValueError(
            f"{column} {text} is not a multiple of tick size {instrument.tick_size} "
            f"for {instrument.key}"
        )
    return price


def _quantity(text: str, column: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a whole number") from None
    if not 0 <= value <= _MAX_QUANTITY:
        raise ValueError(f"{column} must be between 0 and {_MAX_QUANTITY:,}, got {text}")
    return value


class ReplayFeed(FeedService):
    """Recorded ticks as a supervised service; bad rows go to ``market.ticks.dlq``."""

    def __init__(
        self,
        bus: EventBus,
        registry: InstrumentRegistry,
        source: str | Path | Iterable[bytes],
        *,
        ticks_per_second: float | None = None,
        clock: Clock | None = None,
        name: str = "replay-feed",
        price_band_pct: Decimal = DEFAULT_PRICE_BAND_PCT,
    ) -> None:
        super().__init__(name=name, bus=bus, ticks_per_second=ticks_per_second, clock=clock)
        self.registry = registry
        self.source = source
        self.price_band_pct = price_band_pct
        if isinstance(source, str | Path) and not Path(source).is_file():
            raise ReplayFormatError(f"tick file not found: {source}")

    def items(self) -> Iterator[Tick | RejectedRow]:
        lines = read_lines(self.source) if isinstance(self.source, str | Path) else self.source
        return iter_replay(lines, self.registry, price_band_pct=self.price_band_pct)
