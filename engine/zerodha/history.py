"""Kite candle history, fetched in the chunks Kite allows, at its pace, resumable.

Kite answers one ``GET /instruments/historical/{token}/{interval}`` for at most a fixed
number of days per interval (beyond it: 400 InputException "interval exceeds max limit").
KITE_FACTS.md lists the endpoint and its 3 requests/s limit (§B2, Zerodha staff on the
forum, comment/52882) but not the per-interval ranges; these are Zerodha's published
maxima as traders quote them (kite.trade forum; e.g. vianmaxacademy.com "Fetching
Historical Data via KiteConnect API": minute 60 days, 3/5-minute 100, 15-minute 200,
60-minute 400, day 2000), with 10-minute and 30-minute as their neighbours (100, 200).

A range is cut into whole-day chunks no longer than the maximum. Each chunk, once
stored, is recorded by the cache, so an interrupted fetch run again asks only for what
is missing. A chunk reaching today is stored but not recorded as done: today's candles
are still being made. Requests go through ``OrderRateLimiter`` configured at 3/s, and a
429 pauses and retries the same chunk rather than skipping it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Protocol

from engine.clock import datetime_to_ns
from engine.market.bars import check_interval
from engine.market.candles import Candle
from engine.zerodha.kite_orders import KiteFailure, classify_failure
from engine.zerodha.rate_limit import OrderRateLimiter, RateLimits

log = logging.getLogger("alphapanda.zerodha")

MAX_DAYS_PER_REQUEST: Final[dict[str, int]] = {
    "minute": 60,
    "3minute": 100,
    "5minute": 100,
    "10minute": 100,
    "15minute": 200,
    "30minute": 200,
    "60minute": 400,
    "day": 2000,
}
HISTORY_REQUESTS_PER_SECOND: Final = 3
_MAX_THROTTLES = 8  # 429s in a row on one chunk before the fetch gives up


def history_limiter() -> OrderRateLimiter:
    """Kite's historical budget: 3 requests a second (counted over 1.1 s, clear of the
    jitter between our send and Kite's receipt), no minute or day cap."""
    per_second = HISTORY_REQUESTS_PER_SECOND
    return OrderRateLimiter(
        RateLimits(per_second=per_second, per_minute=per_second * 60, per_day=10**9, second_s=1.1)
    )


@dataclass(frozen=True, slots=True, order=True)
class Chunk:
    """Whole days [first, last] asked for in one request."""

    first: date
    last: date

    @property
    def key(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def params(self) -> tuple[str, str]:
        """Kite's ``from`` and ``to`` (IST, ``yyyy-mm-dd hh:mm:ss``)."""
        return f"{self.first.isoformat()} 00:00:00", f"{self.last.isoformat()} 23:59:59"


def plan_chunks(interval: str, first: date, last: date) -> list[Chunk]:
    """[first, last] cut into chunks of at most Kite's days for ``interval``, in order."""
    check_interval(interval)
    if last < first:
        raise ValueError(f"--from {first} is after --to {last}")
    span = timedelta(days=MAX_DAYS_PER_REQUEST[interval] - 1)
    chunks: list[Chunk] = []
    start = first
    while start <= last:
        end = min(start + span, last)
        chunks.append(Chunk(start, end))
        start = end + timedelta(days=1)
    return chunks


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """Candles of one instrument at one interval over whole days."""

    instrument_token: int
    symbol: str  # "NSE:INFY"
    interval: str
    first: date
    last: date
    continuous: bool = False
    oi: bool = False


class CandleCache(Protocol):
    """Where fetched candles are kept (``storage.candles`` implements it)."""

    def done_chunks(self, request: HistoryRequest) -> set[str]:
        """Keys of the chunks already stored completely for this request's series."""
        ...

    def save_chunk(
        self, request: HistoryRequest, chunk: Chunk, candles: list[Candle], *, complete: bool
    ) -> None:
        """Store a chunk's candles (replacing its days); record it done when ``complete``."""
        ...


@dataclass(slots=True)
class FetchResult:
    """What one series' fetch did."""

    symbol: str
    interval: str
    chunks: int
    fetched: int = 0
    skipped: int = 0
    candles: int = 0
    throttled: int = 0
    keys: list[str] = field(default_factory=list)


class HistoryFetchFailed(RuntimeError):
    """Kite refused or the connection failed; chunks stored before it are kept."""


ProgressFn = Callable[[int], None]  # called with the number of chunks just finished (1)


async def fetch_history(
    client: Any,
    request: HistoryRequest,
    cache: CandleCache,
    limiter: OrderRateLimiter,
    *,
    today: date,
    progress: ProgressFn | None = None,
) -> FetchResult:
    """Fetch the chunks of ``request`` the cache lacks, oldest first, storing each."""
    chunks = plan_chunks(request.interval, request.first, request.last)
    done = cache.done_chunks(request)
    result = FetchResult(request.symbol, request.interval, len(chunks))
    for chunk in chunks:
        if chunk.key in done:
            result.skipped += 1
        else:
            candles = await _fetch_chunk(client, request, chunk, limiter, result)
            cache.save_chunk(request, chunk, candles, complete=chunk.last < today)
            result.fetched += 1
            result.candles += len(candles)
            result.keys.append(chunk.key)
        if progress is not None:
            progress(1)
    return result


async def _fetch_chunk(
    client: Any,
    request: HistoryRequest,
    chunk: Chunk,
    limiter: OrderRateLimiter,
    result: FetchResult,
) -> list[Candle]:
    start, end = chunk.params()
    for _ in range(_MAX_THROTTLES):
        await limiter.acquire()
        try:
            rows = await asyncio.to_thread(
                client.historical_data,
                request.instrument_token,
                start,
                end,
                request.interval,
                continuous=request.continuous,
                oi=request.oi,
            )
        except Exception as exc:
            if classify_failure(exc) is KiteFailure.THROTTLED:
                result.throttled += 1
                limiter.throttled()  # the next acquire waits out the pause
                continue
            raise HistoryFetchFailed(
                f"{request.symbol} {request.interval} {chunk.key}: {type(exc).__name__}: {exc}"
            ) from exc
        limiter.accepted()
        return [candle_of(row) for row in rows]
    raise HistoryFetchFailed(
        f"{request.symbol} {request.interval} {chunk.key}: Kite kept answering 429 "
        f"({_MAX_THROTTLES} times); try again later"
    )


def candle_of(row: dict[str, Any]) -> Candle:
    """A candle from one of kiteconnect's records (``date`` is an aware datetime)."""
    stamp = row["date"]
    if not isinstance(stamp, datetime) or stamp.tzinfo is None:
        raise HistoryFetchFailed(f"candle without an aware timestamp: {stamp!r}")
    oi = row.get("oi")
    return Candle(
        datetime_to_ns(stamp),
        _price(row["open"]),
        _price(row["high"]),
        _price(row["low"]),
        _price(row["close"]),
        int(row["volume"]),
        None if oi is None else int(oi),
    )


def _price(value: float | int) -> Decimal:
    """Kite's JSON number as the decimal it was written as (1704.5, not 1704.4999...)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
