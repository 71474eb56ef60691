"""Kite candle history for the CLI: where it is kept and how a backtest replays it.

Shared by ``alphapanda history`` (which fills the store) and ``alphapanda backtest
--candles`` (which reads it): the store lives at ``<home>/candles`` beside the tick store.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from alphapanda_tui.errors import UsageError
from engine.backtest import TickStream
from engine.instruments.registry import InstrumentRegistry, UnknownInstrument
from engine.market.bars import SessionBuckets, check_interval
from engine.market.calendar import NseCalendar
from engine.market.candles import CandleSeries, candle_ticks
from storage.candles.store import CandleStore


def candle_store(settings: Any) -> CandleStore:
    """The candle store under the home directory."""
    return CandleStore(Path(settings.home) / "candles")


def parse_day(text: str, option: str) -> date:
    """A ``YYYY-MM-DD`` option value, or a usage error naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} wants a date as YYYY-MM-DD, not {text!r}") from None


def instrument_keys(registry: InstrumentRegistry, symbols: list[str]) -> list[tuple[int, str]]:
    """(token, "EXCH:SYMBOL") of each symbol ("INFY" means NSE), or a usage error."""
    found: list[tuple[int, str]] = []
    for symbol in symbols:
        try:
            instrument = registry.by_key(symbol.upper())
        except UnknownInstrument:
            raise UsageError(f"unknown instrument {symbol!r} (not in the registry)") from None
        found.append((instrument.instrument_token, instrument.key))
    return found


def candle_source(
    settings: Any,
    registry: InstrumentRegistry,
    symbols: list[str],
    interval: str,
    first: date,
    last: date,
) -> TickStream:
    """The stored candles of ``symbols`` as a tick stream (four ticks a candle); a usage
    error naming the missing series when one has no candle in the range."""
    try:
        check_interval(interval)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store = candle_store(settings)
    all_series: list[CandleSeries] = []
    for token, key in instrument_keys(registry, symbols):
        candles = store.read(key, interval, first, last)
        if not candles:
            raise UsageError(
                f"no {interval} candles of {key} from {first} to {last} under {store.root}: "
                f"run 'alphapanda history fetch {key} --interval {interval} "
                f"--from {first} --to {last}'"
            )
        all_series.append(CandleSeries(token, key, interval, candles))
    buckets = SessionBuckets(interval, NseCalendar(holidays=settings.risk.holidays))
    label = f"candles:{interval}:{','.join(s.symbol for s in all_series)}:{first}..{last}"
    return TickStream(lambda: candle_ticks(all_series, buckets), label=label)


def backtest_candles(settings: Any, registry: InstrumentRegistry, args: Any) -> TickStream:
    """``backtest --candles SYMBOL... --interval I --from D --to D``, checked in words."""
    missing = [
        option
        for option, value in (
            ("--interval", args.interval),
            ("--from", args.candles_from),
            ("--to", args.candles_to),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"--candles needs {', '.join(missing)}")
    first, last = parse_day(args.candles_from, "--from"), parse_day(args.candles_to, "--to")
    if last < first:
        raise UsageError(f"--from {first} is after --to {last}")
    return candle_source(settings, registry, args.candles, args.interval, first, last)
