"""Download Kite's daily instruments dump and upsert it, keyed by ``exchange:tradingsymbol``.

The dump is tens of thousands of rows for NFO, so it is fetched in a worker thread and
written in batches with progress. Rows pass the same validation as a dump loaded from
disk (``engine.instruments.csv_loader``): a bad row is counted and reported, never
allowed to abort the sync or slip in half-parsed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from engine.domain.records import Instrument
from engine.instruments.csv_loader import KITE_COLUMNS, RowError, parse_instruments

log = logging.getLogger("alphapanda.instruments")
Progress = Callable[[int, int], None]


class InstrumentSink(Protocol):
    async def upsert_instruments(self, instruments: Sequence[Instrument]) -> int: ...


class SyncRecord(Protocol):
    """When the instruments were last synced (storage keeps it beside the data).

    Live trading checks that instruments were synced today (contracts expire, tokens are
    reused); the CLI and the console record a sync in the same place.
    """

    def synced_on(self) -> date | None:
        """The IST date of the last successful sync; None when never (or unreadable)."""

    def record(self, day: date, per_exchange: dict[str, int]) -> None:
        """Mark ``day`` (IST) as synced, with the rows written per exchange."""


@dataclass(slots=True)
class SyncResult:
    """What a sync wrote, per exchange, and the rows it refused."""

    written: int = 0
    per_exchange: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


async def sync_instruments(
    kite_client: Any,
    store: InstrumentSink,
    exchanges: Sequence[str] = ("NSE",),
    progress: Progress | None = None,
    *,
    batch_size: int = 2000,
) -> SyncResult:
    """Fetch each exchange's dump, validate it, upsert in batches; ``progress(done, total)``."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = progress or (lambda _done, _total: None)
    parsed: dict[str, list[Instrument]] = {}
    result = SyncResult()
    for exchange in dict.fromkeys(e.strip().upper() for e in exchanges):
        dump = await asyncio.to_thread(download_dump, kite_client, exchange)
        loaded = parse_instruments(dump)
        parsed[exchange] = loaded.instruments
        result.errors.extend(loaded.errors)
        log.info(
            "instruments downloaded",
            extra={
                "exchange": exchange,
                "rows": len(loaded.instruments),
                "bad_rows": len(loaded.errors),
            },
        )
    total = sum(map(len, parsed.values()))
    report(0, total)
    for exchange, instruments in parsed.items():
        for start in range(0, len(instruments), batch_size):
            batch = instruments[start : start + batch_size]
            await store.upsert_instruments(batch)
            result.written += len(batch)
            result.per_exchange[exchange] = result.per_exchange.get(exchange, 0) + len(batch)
            report(result.written, total)
    return result


def download_dump(kite_client: Any, exchange: str) -> bytes | str:
    """The exchange's dump as CSV text, each row still unparsed.

    ``KiteConnect.instruments`` parses every row itself and one bad expiry date makes
    it raise for the whole exchange; its own GET (the same request) hands back the raw
    CSV instead, so a bad row costs only that row. Clients without it (test doubles,
    other versions) fall back to ``instruments()`` rows.
    """
    raw_get = getattr(kite_client, "_get", None)
    if callable(raw_get):
        body = raw_get("market.instruments", url_args={"exchange": exchange})
        if isinstance(body, bytes | str):
            return body
    return rows_to_csv(kite_client.instruments(exchange))


def rows_to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The client's parsed rows back as dump text, so one validator serves both paths.

    The client turns numbers into floats and a 10-character expiry into a ``date``;
    ``str`` of those reads back exactly (``0.05`` stays ``0.05``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(KITE_COLUMNS)
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in KITE_COLUMNS])
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def explain_sync_failure(exc: Exception, log_in: str = "run `alphapanda login`") -> str:
    """A failed sync in words; ``log_in`` says how to get a fresh token where it is read."""
    name = type(exc).__name__
    if name == "TokenException":
        return f"Zerodha rejected the access token: {log_in}"
    if name in {"ConnectionError", "ReadTimeout", "ConnectTimeout", "NetworkException"}:
        return f"could not download the instruments dump ({name}); try again"
    return f"instruments sync failed: {name}: {str(exc).splitlines()[0] if str(exc) else ''}"
