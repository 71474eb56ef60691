"""The simulated market is reproducible and looks like NSE: tick-size prices, session hours."""

from __future__ import annotations

import asyncio
from datetime import date, time
from decimal import Decimal
from itertools import pairwise

from engine.bus.memory import MemoryBus
from engine.clock import IST, ns_to_datetime
from engine.events import topics
from engine.events.payloads import Tick
from engine.instruments import is_tick_multiple, load_default_registry
from engine.market.calendar import NseCalendar
from engine.market.feeds import SimulatedFeed, SimulatedFeedConfig, iter_ticks
from tests.helpers import eventually

REGISTRY = load_default_registry()
KEYS = ("NSE:RELIANCE", "NSE:INFY", "NSE:SBIN", "NSE:NIFTY 50")


def _ticks(**overrides: object) -> list[Tick]:
    options: dict[str, object] = {"instruments": KEYS, "max_ticks": 4_000, "seed": 11}
    options.update(overrides)
    return list(iter_ticks(REGISTRY, SimulatedFeedConfig(**options)))  # type: ignore[arg-type]


def test_same_seed_gives_the_same_ticks_and_another_seed_does_not() -> None:
    assert _ticks(seed=3) == _ticks(seed=3)
    assert [t.last_price for t in _ticks(seed=3)] != [t.last_price for t in _ticks(seed=4)]


def test_prices_are_positive_tick_multiples_with_a_sane_quote() -> None:
    for tick in _ticks(volatility_bps=40.0):
        instrument = REGISTRY.by_token(tick.instrument_token)
        assert tick.last_price > 0
        assert is_tick_multiple(tick.last_price, instrument)
        assert tick.low is not None and tick.high is not None
        assert tick.low <= tick.last_price <= tick.high
        if instrument.lot_size:  # equities carry a book; indices do not
            assert tick.bid is not None and tick.ask is not None
            assert tick.bid < tick.last_price < tick.ask
            assert is_tick_multiple(tick.bid, instrument) and tick.last_quantity > 0


def test_volume_accumulates_within_a_day() -> None:
    sbin = [t for t in _ticks(max_ticks=2_000) if t.symbol == "NSE:SBIN"]
    assert all(a.volume < b.volume for a, b in pairwise(sbin))
    assert sbin[-1].volume == sum(t.last_quantity for t in sbin)


def test_event_times_stay_inside_nse_hours_on_trading_days() -> None:
    republic_day = date(2024, 1, 26)  # a Friday holiday
    calendar = NseCalendar([republic_day])
    ticks = _ticks(
        start_date=date(2024, 1, 25),
        clock_mode="compressed",
        rounds_per_session=200,
        holidays=(republic_day,),
        max_ticks=4 * 200 * 3,  # three sessions
    )
    days = set()
    for tick in ticks:
        local = ns_to_datetime(tick.exchange_ts, IST)
        assert calendar.is_open(tick.exchange_ts), local
        assert time(9, 15) <= local.time() < time(15, 30)
        days.add(local.date())
    # Thursday, then the holiday and the weekend are skipped: Monday and Tuesday.
    assert days == {date(2024, 1, 25), date(2024, 1, 29), date(2024, 1, 30)}
    assert all(a.exchange_ts <= b.exchange_ts for a, b in pairwise(ticks))


def test_a_new_session_resets_volume_and_opens_at_the_previous_close() -> None:
    ticks = _ticks(clock_mode="compressed", rounds_per_session=50, max_ticks=4 * 100)
    infy = [t for t in ticks if t.symbol == "NSE:INFY"]
    last_of_day, first_of_next = infy[49], infy[50]
    assert first_of_next.volume == first_of_next.last_quantity
    assert first_of_next.close == last_of_day.last_price
    assert first_of_next.open == last_of_day.last_price


async def test_the_service_publishes_max_ticks_keyed_by_token_and_finishes() -> None:
    bus = MemoryBus(partitions=2)
    config = SimulatedFeedConfig(instruments=KEYS, max_ticks=40, ticks_per_second=None)
    feed = SimulatedFeed(bus, REGISTRY, config)
    probe = await bus.subscribe([topics.MARKET_TICKS], "probe")

    task = asyncio.create_task(feed.run())
    await eventually(feed.finished.is_set)
    await task

    records = await probe.fetch(100, 0.1)
    assert len(records) == 40 == feed.health().processed
    for record in records:
        assert record.envelope is not None
        assert record.key == str(record.envelope.data.instrument_token)  # type: ignore[union-attr]
    assert [r.envelope.data for r in records if r.key == "408065"] == [  # type: ignore[union-attr]
        t for t in iter_ticks(REGISTRY, config) if t.instrument_token == 408065
    ]


async def test_stop_ends_an_endless_paced_feed_promptly() -> None:
    bus = MemoryBus()
    config = SimulatedFeedConfig(instruments=KEYS, ticks_per_second=2_000.0)
    feed = SimulatedFeed(bus, REGISTRY, config)
    task = asyncio.create_task(feed.run())

    await eventually(lambda: feed.published >= 20)
    feed.stop()
    await asyncio.wait_for(task, timeout=1.0)

    assert not feed.finished.is_set()
    assert feed.health().status.value == "stopped"


def test_seeded_ticks_are_pinned() -> None:
    # Fingerprint of the ticks the original implementation produced for seed 3 (an index
    # included): the cached prices and the inlined Gaussian must not change a single tick.
    import hashlib

    config = SimulatedFeedConfig(
        seed=3, instruments=("NSE:RELIANCE", "NSE:INFY", "NSE:NIFTY 50"), max_ticks=3000
    )
    ticks = list(iter_ticks(REGISTRY, config))
    fields = [
        (
            t.instrument_token,
            str(t.last_price),
            str(t.bid),
            str(t.ask),
            t.bid_quantity,
            t.ask_quantity,
            t.last_quantity,
            t.volume,
            t.exchange_ts,
            str(t.high),
            str(t.low),
            str(t.open),
            str(t.close),
        )
        for t in ticks
    ]
    digest = hashlib.sha256(repr(fields).encode()).hexdigest()
    assert digest == "7b13acfb2c8625ce7ce98dc9eb68cce11fa13c0954407ebf34a4a47c14bf1ba7"


def test_a_restarted_market_carries_on_after_the_last_event_time_it_reached() -> None:
    """Stop mid-session and start again: the clock continues, it never rewinds to 09:15."""
    first = _ticks(start_date=date(2024, 1, 25), max_ticks=400)
    reached = first[-1].exchange_ts
    again = _ticks(start_date=date(2024, 1, 25), max_ticks=400, resume_after_ns=reached)
    assert again[0].exchange_ts > reached
    assert all(a.exchange_ts <= b.exchange_ts for a, b in pairwise(again))
    assert ns_to_datetime(again[0].exchange_ts, IST).date() == date(2024, 1, 25)


def test_a_market_restarted_after_the_close_opens_the_next_trading_day() -> None:
    republic_day = date(2024, 1, 26)
    _, close = NseCalendar([republic_day]).session_bounds(date(2024, 1, 25))
    ticks = _ticks(
        start_date=date(2024, 1, 25),
        holidays=(republic_day,),
        max_ticks=40,
        resume_after_ns=close + 3_600 * 10**9,  # stopped in the evening
    )
    first = ns_to_datetime(ticks[0].exchange_ts, IST)
    assert (first.date(), first.time()) == (date(2024, 1, 29), time(9, 15))


RELIANCE = REGISTRY.by_key("NSE:RELIANCE").instrument_token
CARRIED = ((RELIANCE, Decimal("1510.05"), Decimal("1498.40")),)  # last price, previous close


def _first(ticks: list[Tick], token: int) -> Tick:
    return next(t for t in ticks if t.instrument_token == token)


def test_a_market_resumed_in_its_session_carries_each_price_and_the_days_close() -> None:
    """Seen in QA: after a restart TCS's previous close read 3,450.00 (the bundled price)
    where it had read 3,400.50, so the day's P&L of a carried position jumped."""
    open_ns, _ = NseCalendar().session_bounds(date(2024, 1, 25))
    stopped = open_ns + 3_600 * 10**9  # 10:15
    ticks = _ticks(resume_after_ns=stopped, resume_prices=CARRIED, max_ticks=40)

    first = _first(ticks, RELIANCE)
    assert first.exchange_ts > stopped
    assert first.close == Decimal("1498.40")
    assert abs(first.last_price - Decimal("1510.05")) <= Decimal("0.50")  # one move on
    infy = _first(ticks, REGISTRY.by_key("NSE:INFY").instrument_token)  # not carried
    assert infy.close == REGISTRY.by_key("NSE:INFY").last_price


def test_a_market_resumed_after_the_close_takes_the_last_price_as_the_close() -> None:
    _, close = NseCalendar().session_bounds(date(2024, 1, 25))
    ticks = _ticks(resume_after_ns=close + 60 * 10**9, resume_prices=CARRIED, max_ticks=40)

    first = _first(ticks, RELIANCE)
    assert ns_to_datetime(first.exchange_ts, IST).date() == date(2024, 1, 26)
    assert first.close == Decimal("1510.05")


def test_a_resumed_market_draws_moves_of_its_own_and_a_fresh_one_those_of_its_seed() -> None:
    open_ns, _ = NseCalendar().session_bounds(date(2024, 1, 25))
    fresh = _ticks(start_date=date(2024, 1, 25), max_ticks=400)
    resumed = _ticks(resume_after_ns=open_ns - 1, max_ticks=400)  # the same first tick time

    assert fresh == _ticks(start_date=date(2024, 1, 25), max_ticks=400)
    assert [t.exchange_ts for t in resumed] == [t.exchange_ts for t in fresh]
    assert [t.last_price for t in resumed] != [t.last_price for t in fresh]
