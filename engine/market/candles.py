"""Kite candles as a tick source: each candle becomes four ticks the paper broker fills on.

A backtest on history must go through the same pipeline as live trading, which eats
ticks. So each candle is walked as O, then the extreme against the candle's direction,
then the other extreme, then C (a rising candle: O, L, H, C; a falling one: O, H, L, C),
the usual conservative path: a stop or a limit is met in the order it would most likely
have been met. The four ticks sit at 0, 1/4, 1/2 and 3/4 of the candle's bar window and
carry Kite-like cumulative day volume, so ``BarAggregator`` rebuilds exactly the candle.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import msgspec

from engine.clock import IST, ns_to_datetime
from engine.events.payloads import Tick
from engine.market.bars import Bar, SessionBuckets


class Candle(msgspec.Struct, frozen=True, gc=False):
    """One Kite candle: its start (UTC ns; a day candle starts at 00:00 IST), OHLC, volume."""

    start_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int = 0
    oi: int | None = None


class CandleSeries(msgspec.Struct, frozen=True, gc=False):
    """The candles of one instrument at one interval, oldest first."""

    instrument_token: int
    symbol: str  # "NSE:INFY"
    interval: str
    candles: Sequence[Candle]


def bar_window(candle: Candle, buckets: SessionBuckets) -> tuple[int, int, int] | None:
    """(start, end, session open) of the bar a candle is (a day candle's is its session);
    None for a candle outside the calendar's sessions (a special session such as Diwali's
    Muhurat trading), which no bar of the normal session can hold."""
    if buckets.interval == "day":
        bounds = buckets.session_of(ns_to_datetime(candle.start_ns, IST).date())
        return None if bounds is None else (bounds[0], bounds[1], bounds[0])
    window = buckets.window(candle.start_ns)
    return window if window is not None and window[0] == candle.start_ns else None


def candle_bar(series: CandleSeries, candle: Candle, buckets: SessionBuckets) -> Bar:
    """The bar a candle stands for, as ``BarAggregator`` would build it from ticks."""
    window = bar_window(candle, buckets)
    if window is None:
        raise ValueError(f"{series.interval} candle at {candle.start_ns} is in no session bar")
    start, end, _ = window
    return Bar(
        series.instrument_token,
        series.symbol,
        series.interval,
        start,
        end,
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
        candle.oi,
    )


def series_ticks(series: CandleSeries, buckets: SessionBuckets) -> Iterator[Tick]:
    """Four ticks per candle of one instrument, in time order (candles outside the
    calendar's sessions skipped: see ``bar_window``)."""
    cumulative, session = 0, -1
    for candle in series.candles:
        window = bar_window(candle, buckets)
        if window is None:
            continue
        start, end, session_open = window
        if session_open != session:  # Kite's day volume starts again each session
            cumulative, session = 0, session_open
        step = (end - start) // 4
        rising = candle.close >= candle.open
        path = (
            candle.open,
            candle.low if rising else candle.high,
            candle.high if rising else candle.low,
            candle.close,
        )
        share, rest = divmod(candle.volume, 4)
        for index, price in enumerate(path):
            traded = share + (rest if index == 3 else 0)
            cumulative += traded
            yield Tick(
                instrument_token=series.instrument_token,
                symbol=series.symbol,
                last_price=price,
                exchange_ts=start + index * step,
                last_quantity=traded,
                volume=cumulative,
                oi=candle.oi,
            )


def candle_ticks(all_series: Iterable[CandleSeries], buckets: SessionBuckets) -> Iterator[Tick]:
    """The ticks of every series merged in time order (ties: the order of ``all_series``)."""
    streams = [series_ticks(series, buckets) for series in all_series]
    return heapq.merge(*streams, key=lambda tick: tick.exchange_ts)
