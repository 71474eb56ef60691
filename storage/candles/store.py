"""``CandleStore``: the engine's ``CandleCache`` over Parquet files (see the package doc)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.clock import IST, datetime_to_ns
from engine.market.candles import Candle
from engine.zerodha.history import Chunk, HistoryRequest
from storage.durable import replace_durably
from storage.ticks.schema import scale_price, unscale_price

CANDLE_SCHEMA = pa.schema(
    [
        pa.field("ts", pa.int64(), nullable=False),  # candle start, UTC ns
        *(pa.field(name, pa.int64(), nullable=False) for name in ("open", "high", "low", "close")),
        pa.field("volume", pa.int64(), nullable=False),
        pa.field("oi", pa.int64()),
    ]
)
_SUFFIX = ".parquet"
_CHUNKS = ".chunks.json"


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """One stored series, for ``alphapanda history list``."""

    symbol: str
    interval: str
    continuous: bool
    candles: int
    first_ns: int | None
    last_ns: int | None
    chunks: int
    bytes: int


class CandleStore:
    """Candle series under ``root``; implements ``engine.zerodha.history.CandleCache``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, symbol: str, interval: str, *, continuous: bool = False) -> Path:
        exchange, _, tradingsymbol = symbol.partition(":")
        name = tradingsymbol + ("+continuous" if continuous else "")
        return self.root / interval / exchange / f"{name}{_SUFFIX}"

    def done_chunks(self, request: HistoryRequest) -> set[str]:
        chunks = self._chunks(self._path_of(request))
        return {key for key, oi in chunks.items() if oi or not request.oi}

    def save_chunk(
        self, request: HistoryRequest, chunk: Chunk, candles: list[Candle], *, complete: bool
    ) -> None:
        path = self._path_of(request)
        path.parent.mkdir(parents=True, exist_ok=True)
        start, end = _day_range(chunk.first), _day_range(chunk.last + timedelta(days=1))
        kept = self._table(path)
        if kept is not None:
            inside = pc.and_(pc.greater_equal(kept["ts"], start), pc.less(kept["ts"], end))
            kept = kept.filter(pc.invert(inside))
        merged = pa.concat_tables([t for t in (kept, _to_table(candles)) if t is not None])
        merged = merged.sort_by("ts")
        replace_durably(path, lambda tmp: pq.write_table(merged, tmp, compression="zstd"))
        if complete:
            chunks = self._chunks(path)
            chunks[chunk.key] = request.oi or chunks.get(chunk.key, False)
            text = json.dumps({"chunks": dict(sorted(chunks.items()))}, indent=1)
            replace_durably(path.with_name(path.name[: -len(_SUFFIX)] + _CHUNKS), _writer(text))

    def read(
        self,
        symbol: str,
        interval: str,
        first: date | None = None,
        last: date | None = None,
        *,
        continuous: bool = False,
    ) -> list[Candle]:
        """The stored candles of a series within [first, last] (whole IST days), oldest first."""
        table = self._table(self.path(symbol, interval, continuous=continuous))
        if table is None:
            return []
        if first is not None:
            table = table.filter(pc.greater_equal(table["ts"], _day_range(first)))
        if last is not None:
            table = table.filter(pc.less(table["ts"], _day_range(last + timedelta(days=1))))
        return _candles(table)

    def list_series(self) -> list[SeriesSummary]:
        """Every stored series, by interval, exchange and symbol."""
        found: list[SeriesSummary] = []
        for path in sorted(self.root.glob(f"*/*/*{_SUFFIX}")):
            table = pq.read_table(path, columns=["ts"])
            name = path.name[: -len(_SUFFIX)]
            tradingsymbol, _, flag = name.partition("+")
            ts = table["ts"]
            found.append(
                SeriesSummary(
                    symbol=f"{path.parent.name}:{tradingsymbol}",
                    interval=path.parent.parent.name,
                    continuous=flag == "continuous",
                    candles=table.num_rows,
                    first_ns=pc.min(ts).as_py() if table.num_rows else None,
                    last_ns=pc.max(ts).as_py() if table.num_rows else None,
                    chunks=len(self._chunks(path)),
                    bytes=path.stat().st_size,
                )
            )
        return found

    def _path_of(self, request: HistoryRequest) -> Path:
        return self.path(request.symbol, request.interval, continuous=request.continuous)

    @staticmethod
    def _table(path: Path) -> pa.Table | None:
        return pq.read_table(path, schema=CANDLE_SCHEMA) if path.exists() else None

    @staticmethod
    def _chunks(path: Path) -> dict[str, bool]:
        """Chunk key -> whether it was fetched with open interest."""
        manifest = path.with_name(path.name[: -len(_SUFFIX)] + _CHUNKS)
        if not manifest.exists():
            return {}
        return {str(k): bool(v) for k, v in json.loads(manifest.read_text())["chunks"].items()}


def _day_range(day: date) -> int:
    """UTC ns of 00:00 IST on ``day``."""
    return datetime_to_ns(datetime.combine(day, time(), tzinfo=IST))


def _to_table(candles: list[Candle]) -> pa.Table:
    return pa.table(
        {
            "ts": [c.start_ns for c in candles],
            "open": [scale_price(c.open) for c in candles],
            "high": [scale_price(c.high) for c in candles],
            "low": [scale_price(c.low) for c in candles],
            "close": [scale_price(c.close) for c in candles],
            "volume": [c.volume for c in candles],
            "oi": [c.oi for c in candles],
        },
        schema=CANDLE_SCHEMA,
    )


def _candles(table: pa.Table) -> list[Candle]:
    columns = table.to_pydict()
    return [
        Candle(ts, unscale_price(o), unscale_price(h), unscale_price(lo), unscale_price(c), v, oi)
        for ts, o, h, lo, c, v, oi in zip(
            columns["ts"],
            columns["open"],
            columns["high"],
            columns["low"],
            columns["close"],
            columns["volume"],
            columns["oi"],
            strict=True,
        )
    ]


def _writer(text: str) -> Callable[[Path], None]:
    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    return write
