"""Simulated market: a seeded random walk per instrument, on tick-size multiples.

Used by the paper-trading demo and by backtests. ``iter_ticks`` is a pure generator
(same seed, same ticks), and event times follow the NSE session in Asia/Kolkata from a
start date, skipping weekends and holidays, so market-hours rules behave as in a real day.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from engine.bus.base import EventBus
from engine.clock import IST, Clock, ns_to_datetime
from engine.domain.records import Instrument
from engine.events.payloads import Tick
from engine.instruments.registry import InstrumentRegistry, effective_tick
from engine.market.calendar import NseCalendar
from engine.market.feeds.base import FeedService, RejectedRow

ClockMode = Literal["session", "compressed"]
_DEFAULT_START = date(2024, 1, 1)


@dataclass(frozen=True, slots=True)
class SimulatedFeedConfig:
    """How the simulated market moves and how fast it is played.

    ``clock_mode="session"`` advances event time by ``event_step_ms`` per round (one tick
    for every instrument); ``"compressed"`` fits a whole session into
    ``rounds_per_session`` rounds, so a demo sees many trading days in minutes.
    """

    seed: int = 7
    instruments: tuple[str, ...] = ()  # "NSE:INFY" keys; empty: every instrument
    start_date: date | None = None  # None: today (from the injected clock), else 2024-01-01
    clock_mode: ClockMode = "session"
    event_step_ms: int = 1000
    rounds_per_session: int = 750
    ticks_per_second: float | None = 50.0  # wall-clock pacing of run(); None: unpaced
    max_ticks: int | None = None
    volatility_bps: float = 5.0  # standard deviation of one move, basis points of price
    spread_ticks: int = 1
    holidays: tuple[date, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.clock_mode not in ("session", "compressed"):
            raise ValueError(f"clock_mode must be 'session' or 'compressed': {self.clock_mode!r}")
        if self.event_step_ms <= 0 or self.rounds_per_session <= 0:
            raise ValueError("event_step_ms and rounds_per_session must be positive")
        if self.max_ticks is not None and self.max_ticks < 0:
            raise ValueError("max_ticks must be >= 0")
        if self.volatility_bps < 0 or self.spread_ticks < 0:
            raise ValueError("volatility_bps and spread_ticks must be >= 0")


class _Walk:
    """Day state of one instrument, in integer ticks so every price is a tick multiple."""

    __slots__ = (
        "anchor",
        "close",
        "close_dec",
        "high",
        "high_dec",
        "instrument",
        "lot",
        "low",
        "low_dec",
        "open_dec",
        "price",
        "sigma",
        "symbol",
        "tick",
        "token",
        "volume",
    )

    def __init__(self, instrument: Instrument, volatility_bps: float) -> None:
        self.instrument = instrument
        self.tick = effective_tick(instrument)
        start = instrument.last_price if instrument.last_price > 0 else Decimal(100)
        self.price = max(1, int((start / self.tick).to_integral_value()))
        self.anchor = self.price
        self.sigma = max(0.6, self.price * volatility_bps / 10_000)
        self.token = instrument.instrument_token
        self.symbol = instrument.key
        self.lot = instrument.lot_size
        self.close = self.price
        self.close_dec = self.tick * self.close
        self.new_day()

    def new_day(self) -> None:
        self.close, self.close_dec = self.price, self.tick * self.price
        self.high = self.low = self.price
        self.open_dec = self.high_dec = self.low_dec = self.close_dec
        self.volume = 0

    def step(self, rng: random.Random) -> None:
        pull = (self.anchor - self.price) * 0.002  # weak pull home: no drift to zero
        self.price = max(1, self.price + round(rng.gauss(pull, self.sigma)))
        if self.price > self.high:
            self.high, self.high_dec = self.price, self.tick * self.price
        elif self.price < self.low:
            self.low, self.low_dec = self.price, self.tick * self.price


def resolve_instruments(registry: InstrumentRegistry, keys: tuple[str, ...]) -> list[Instrument]:
    """The configured instruments (raising on an unknown key), or the whole registry."""
    return [registry.by_key(k) for k in keys] if keys else list(registry)


def iter_ticks(
    registry: InstrumentRegistry,
    config: SimulatedFeedConfig,
    start_date: date | None = None,
) -> Iterator[Tick]:
    """Rounds of one tick per instrument, forever or until ``config.max_ticks``."""
    calendar = NseCalendar(config.holidays)
    instruments = resolve_instruments(registry, config.instruments)
    walks = [_Walk(i, config.volatility_bps) for i in instruments]
    if not walks or config.max_ticks == 0:
        return
    rng = random.Random(config.seed)
    day = _first_trading_day(calendar, start_date or config.start_date or _DEFAULT_START)
    open_ns, close_ns = calendar.session_bounds(day)
    if config.clock_mode == "compressed":
        step_ns = (close_ns - open_ns) // config.rounds_per_session
    else:
        step_ns = config.event_step_ms * 1_000_000
    spacing = step_ns // len(walks)
    spread = config.spread_ticks
    now, emitted, limit = open_ns, 0, config.max_ticks
    while True:
        if now + step_ns > close_ns:
            day = _first_trading_day(calendar, day + timedelta(days=1))
            open_ns, close_ns = calendar.session_bounds(day)
            now = open_ns
            for walk in walks:
                walk.new_day()
        for index, walk in enumerate(walks):
            walk.step(rng)
            yield _tick(walk, rng, now + index * spacing, spread)
            emitted += 1
            if limit is not None and emitted >= limit:
                return
        now += step_ns


def _tick(walk: _Walk, rng: random.Random, ts: int, spread: int) -> Tick:
    tick, price = walk.tick, walk.price
    if walk.lot <= 0:  # an index: a value, not a book
        return Tick(
            instrument_token=walk.token,
            symbol=walk.symbol,
            last_price=tick * price,
            exchange_ts=ts,
            open=walk.open_dec,
            high=walk.high_dec,
            low=walk.low_dec,
            close=walk.close_dec,
        )
    draw = rng.random  # random() is several times cheaper than randint() on this hot path
    quantity = walk.lot * (1 + int(draw() * 40))
    walk.volume += quantity
    return Tick(
        instrument_token=walk.token,
        symbol=walk.symbol,
        last_price=tick * price,
        exchange_ts=ts,
        last_quantity=quantity,
        volume=walk.volume,
        bid=tick * max(1, price - spread),
        ask=tick * (price + spread),
        bid_quantity=walk.lot * (1 + int(draw() * 200)),
        ask_quantity=walk.lot * (1 + int(draw() * 200)),
        open=walk.open_dec,
        high=walk.high_dec,
        low=walk.low_dec,
        close=walk.close_dec,
    )


def _first_trading_day(calendar: NseCalendar, day: date) -> date:
    for _ in range(60):
        if calendar.is_trading_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError("no trading day in 60 days: check the holiday list")


class SimulatedFeed(FeedService):
    """The simulated market as a supervised service publishing to ``market.ticks``."""

    def __init__(
        self,
        bus: EventBus,
        registry: InstrumentRegistry,
        config: SimulatedFeedConfig | None = None,
        *,
        clock: Clock | None = None,
        name: str = "sim-feed",
    ) -> None:
        self.config = config or SimulatedFeedConfig()
        super().__init__(
            name=name, bus=bus, ticks_per_second=self.config.ticks_per_second, clock=clock
        )
        self.registry = registry
        resolve_instruments(registry, self.config.instruments)  # fail fast on a bad key
        start = self.config.start_date
        if start is None and clock is not None:
            start = ns_to_datetime(clock.now_ns(), IST).date()
        self.start_date = start or _DEFAULT_START

    def items(self) -> Iterator[Tick | RejectedRow]:
        return iter_ticks(self.registry, self.config, self.start_date)
