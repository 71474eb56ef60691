"""Simulated market: a seeded random walk per instrument, on tick-size multiples.

Used by the paper-trading demo and by backtests. ``iter_ticks`` is a pure generator
(same seed, same ticks), and event times follow the NSE session in Asia/Kolkata from a
start date, skipping weekends and holidays, so market-hours rules behave as in a real day.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from math import cos as _cos
from math import log as _log
from math import sin as _sin
from math import sqrt as _sqrt
from math import tau as _TWO_PI
from typing import Literal

from engine.bus.base import EventBus
from engine.clock import IST, Clock, ns_to_datetime
from engine.domain.records import Instrument
from engine.events.payloads import Tick
from engine.instruments.registry import InstrumentRegistry, effective_tick
from engine.market.calendar import NseCalendar
from engine.market.feeds.base import FeedService, RejectedRow
from engine.memo import remember

ClockMode = Literal["session", "compressed"]
_DEFAULT_START = date(2024, 1, 1)
_PRICE_CACHE = 4_096  # Decimal prices remembered per instrument


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
    # Event time (UTC ns) the previous run reached: the next run starts strictly after it,
    # so a restart never repeats or rewinds the simulated clock (fills stay in time order).
    resume_after_ns: int | None = None
    # Where the previous run left each instrument, (token, last price, previous close):
    # the walk carries on from that price, and from that close while the session it was
    # the close of goes on. An instrument not named starts at its registry price.
    resume_prices: tuple[tuple[int, Decimal, Decimal | None], ...] = ()

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
    """Day state of one instrument, in integer ticks so every price is a tick multiple.

    ``prices`` caches the Decimal of each integer price: the walk revisits the same few
    hundred prices, and a dict lookup is several times cheaper than a Decimal product
    (three per tick). Cleared when it reaches ``_PRICE_CACHE`` entries, so it stays bounded.
    """

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
        "prices",
        "sigma",
        "symbol",
        "tick",
        "token",
        "volume",
    )

    def __init__(
        self,
        instrument: Instrument,
        volatility_bps: float,
        carried: tuple[Decimal, Decimal | None] | None = None,
    ) -> None:
        """``carried``: the last price and previous close a previous run left (the walk
        goes on from them; its pull home and step size stay the instrument's own)."""
        self.instrument = instrument
        self.tick = effective_tick(instrument)
        self.prices: dict[int, Decimal] = {}
        start = instrument.last_price if instrument.last_price > 0 else Decimal(100)
        self.price = self.anchor = self._ticks(start)
        self.sigma = max(0.6, self.price * volatility_bps / 10_000)
        self.token = instrument.instrument_token
        self.symbol = instrument.key
        self.lot = instrument.lot_size
        if carried is not None:
            self.price = self._ticks(carried[0])
        self.close = self.price
        self.close_dec = self.dec(self.close)
        self.new_day()
        if carried is not None and carried[1] is not None:  # the session goes on
            self.close = self._ticks(carried[1])
            self.close_dec = self.dec(self.close)

    def _ticks(self, price: Decimal) -> int:
        """``price`` in whole ticks (at least one)."""
        return max(1, int((price / self.tick).to_integral_value()))

    def dec(self, price: int) -> Decimal:
        """``tick × price`` as a Decimal, from the cache (exactly the same value)."""
        value = self.prices.get(price)
        if value is None:
            value = remember(self.prices, price, self.tick * price, _PRICE_CACHE)
        return value

    def new_day(self) -> None:
        self.close, self.close_dec = self.price, self.dec(self.price)
        self.high = self.low = self.price
        self.open_dec = self.high_dec = self.low_dec = self.close_dec
        self.volume = 0

    def next_tick(self, normal: float, draw: Callable[[], float], ts: int, spread: int) -> Tick:
        """Move the walk one step for a standard normal draw and quote it at ``ts``.

        One call per tick (the move and the quote used to be two).
        """
        price = self.price
        pull = (self.anchor - price) * 0.002  # weak pull home: no drift to zero
        price += round(pull + normal * self.sigma)  # = gauss(pull, sigma), same float ops
        if price < 1:
            price = 1
        self.price = price
        prices = self.prices
        last = prices.get(price) or self.dec(price)
        if price > self.high:
            self.high, self.high_dec = price, last
        elif price < self.low:
            self.low, self.low_dec = price, last
        lot = self.lot
        if lot <= 0:  # an index: a value, not a book
            return Tick(
                instrument_token=self.token,
                symbol=self.symbol,
                last_price=last,
                exchange_ts=ts,
                open=self.open_dec,
                high=self.high_dec,
                low=self.low_dec,
                close=self.close_dec,
            )
        quantity = lot * (1 + int(draw() * 40))  # random() is cheaper than randint() here
        self.volume = volume = self.volume + quantity
        below = price - spread if price > spread else 1
        above = price + spread
        return Tick(
            instrument_token=self.token,
            symbol=self.symbol,
            last_price=last,
            exchange_ts=ts,
            last_quantity=quantity,
            volume=volume,
            bid=prices.get(below) or self.dec(below),
            ask=prices.get(above) or self.dec(above),
            bid_quantity=lot * (1 + int(draw() * 200)),
            ask_quantity=lot * (1 + int(draw() * 200)),
            open=self.open_dec,
            high=self.high_dec,
            low=self.low_dec,
            close=self.close_dec,
        )


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
    carried = {token: (last, close) for token, last, close in config.resume_prices}
    walks = [_Walk(i, config.volatility_bps, carried.get(i.instrument_token)) for i in instruments]
    if not walks or config.max_ticks == 0:
        return
    resume = config.resume_after_ns
    # A resumed market draws moves of its own (a fresh one: exactly the seed's), so a
    # restart does not play the first run's moves again from where it stopped.
    rng = random.Random(config.seed if resume is None else f"{config.seed}:{resume}")
    day = _first_trading_day(calendar, start_date or config.start_date or _DEFAULT_START)
    if resume is not None:
        stopped_on = ns_to_datetime(resume, IST).date()
        day = _first_trading_day(calendar, max(day, stopped_on))
        if day != stopped_on:  # a later session: yesterday's last price is its close
            for walk in walks:
                walk.new_day()
    open_ns, close_ns = calendar.session_bounds(day)
    if config.clock_mode == "compressed":
        step_ns = (close_ns - open_ns) // config.rounds_per_session
    else:
        step_ns = config.event_step_ms * 1_000_000
    spacing = step_ns // len(walks)
    spread = config.spread_ticks
    now, emitted, limit = open_ns, 0, config.max_ticks
    if resume is not None and resume >= open_ns:
        now = open_ns + ((resume - open_ns) // step_ns + 1) * step_ns  # the next round after
    draw = rng.random  # bound once: called for every tick
    spare: float | None = None  # the second normal of each Box-Muller pair
    while True:
        if now + step_ns > close_ns:
            day = _first_trading_day(calendar, day + timedelta(days=1))
            open_ns, close_ns = calendar.session_bounds(day)
            now = open_ns
            for walk in walks:
                walk.new_day()
        ts = now
        for walk in walks:
            # ``rng.gauss`` inlined (the same Box-Muller pairs from the same draws, so the
            # same ticks for a seed): saves a call and two attribute writes per tick.
            if spare is None:
                x2pi = draw() * _TWO_PI
                g2rad = _sqrt(-2.0 * _log(1.0 - draw()))
                normal, spare = _cos(x2pi) * g2rad, _sin(x2pi) * g2rad
            else:
                normal, spare = spare, None
            yield walk.next_tick(normal, draw, ts, spread)
            emitted += 1
            if emitted == limit:
                return
            ts += spacing
        now += step_ns


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
