"""Time bars: Kite's alignment, session edges, volume, and candles rebuilt from their ticks."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events.payloads import Tick
from engine.market.bars import INTERVALS, BarAggregator, SessionBuckets
from engine.market.candles import Candle, CandleSeries, candle_bar, candle_ticks

MONDAY = date(2024, 1, 15)
INFY, TCS = 408065, 2953217


def at(hhmm: str, day: date = MONDAY, seconds: int = 0) -> int:
    hour, minute = map(int, hhmm.split(":"))
    return datetime_to_ns(datetime.combine(day, time(hour, minute, seconds), tzinfo=IST))


def tick(ts: int, price: str, token: int = INFY, volume: int = 0, traded: int = 0) -> Tick:
    return Tick(
        instrument_token=token,
        symbol="NSE:INFY" if token == INFY else "NSE:TCS",
        last_price=Decimal(price),
        exchange_ts=ts,
        volume=volume,
        last_quantity=traded,
    )


def test_sixty_minute_bars_start_at_the_open_and_the_last_is_cut_at_the_close() -> None:
    buckets = SessionBuckets("60minute")
    assert buckets.window(at("09:15")) == (at("09:15"), at("10:15"), at("09:15"))
    assert buckets.window(at("10:14", seconds=59))[:2] == (at("09:15"), at("10:15"))
    assert buckets.window(at("15:29"))[:2] == (at("15:15"), at("15:30"))


def test_no_bar_outside_the_session_weekends_or_holidays() -> None:
    buckets = SessionBuckets("minute")
    assert buckets.window(at("09:10")) is None  # pre-open
    assert buckets.window(at("15:30")) is None  # the close itself
    assert buckets.window(at("10:00", date(2024, 1, 13))) is None  # Saturday
    assert buckets.window(at("10:00", date(2026, 1, 26))) is None  # Republic Day


def test_a_day_bar_is_the_session() -> None:
    assert SessionBuckets("day").window(at("12:00")) == (at("09:15"), at("15:30"), at("09:15"))


def test_a_bar_closes_on_the_first_tick_at_or_after_its_end_of_any_instrument() -> None:
    bars = BarAggregator("5minute")
    assert bars.on_tick(tick(at("09:15"), "100")) == []
    assert bars.on_tick(tick(at("09:17"), "103")) == []
    assert bars.on_tick(tick(at("09:19", seconds=59), "99")) == []
    closed = bars.on_tick(tick(at("09:20"), "500", token=TCS))
    assert [(b.symbol, b.start_ns, b.end_ns) for b in closed] == [
        ("NSE:INFY", at("09:15"), at("09:20"))
    ]
    bar = closed[0]
    assert (bar.open, bar.high, bar.low, bar.close) == tuple(map(Decimal, "100 103 99 99".split()))


def test_a_tick_read_after_its_bar_closed_never_opens_a_second_bar_for_that_window() -> None:
    """A consumer reads a batch partition by partition: TCS at 09:20 can close INFY's
    09:15 bar before INFY's 09:19 tick is read. One bar per window, always."""
    bars = BarAggregator("5minute")
    bars.on_tick(tick(at("09:15"), "100"))
    closed = bars.on_tick(tick(at("09:20"), "500", token=TCS))
    assert [b.start_ns for b in closed] == [at("09:15")]
    assert bars.on_tick(tick(at("09:19"), "90")) == []  # late: its bar is out
    later = bars.on_tick(tick(at("09:25"), "501", token=TCS))
    later += bars.on_tick(tick(at("09:30"), "502", token=TCS))
    assert [(b.symbol, b.start_ns) for b in later] == [
        ("NSE:TCS", at("09:20")),
        ("NSE:TCS", at("09:25")),
    ]  # before: a second INFY 09:15 bar, of the late tick alone
    assert bars.late_ticks == 1


def test_the_last_bar_of_a_session_closes_with_the_next_sessions_first_tick() -> None:
    bars = BarAggregator("15minute")
    bars.on_tick(tick(at("15:20"), "100"))
    assert bars.on_tick(tick(at("15:29", seconds=59), "100")) == []
    closed = bars.on_tick(tick(at("09:15", date(2024, 1, 16)), "105"))
    assert [(b.start_ns, b.end_ns, b.close) for b in closed] == [
        (at("15:15"), at("15:30"), Decimal("100"))
    ]


def test_post_close_tick_delivers_the_last_bar() -> None:
    bars = BarAggregator("15minute")
    bars.on_tick(tick(at("15:20"), "100"))
    closed = bars.on_tick(tick(at("15:30", seconds=5), "101", token=TCS))
    assert [b.end_ns for b in closed] == [at("15:30")]


def test_volume_is_the_rise_of_day_volume_counting_the_first_ticks_own_trade() -> None:
    bars = BarAggregator("minute")
    bars.on_tick(tick(at("11:00"), "100", volume=50_000, traded=10))  # started mid-day
    bars.on_tick(tick(at("11:00", seconds=30), "100", volume=50_040, traded=40))
    first = bars.on_tick(tick(at("11:01"), "100", volume=50_100, traded=60))
    second = bars.flush()
    assert [b.volume for b in first + second] == [50, 60]


def test_unknown_interval_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="minute, 3minute"):
        BarAggregator("2minute")


prices = st.integers(min_value=1, max_value=400_000).map(lambda p: Decimal(p) / 20)


@st.composite
def candle_days(draw: st.DrawFn, interval: str) -> list[Candle]:
    """Candles of one interval over consecutive sessions, with gaps (no trade, no candle)."""
    buckets = SessionBuckets(interval)
    candles: list[Candle] = []
    day = MONDAY
    for _ in range(draw(st.integers(1, 3))):
        open_ns, close_ns = buckets.session_of(day) or (0, 0)
        start = datetime_to_ns(datetime.combine(day, time(), tzinfo=IST))
        step = (close_ns - open_ns) if interval == "day" else buckets._step_ns
        slots = 1 if interval == "day" else min(30, (close_ns - open_ns) // step)
        for slot in range(slots):
            if draw(st.booleans()) and slot:
                continue  # a quiet bar: Kite sends no candle
            o, c, a, b = (draw(prices) for _ in range(4))
            candles.append(
                Candle(
                    start if interval == "day" else open_ns + slot * step,
                    o,
                    max(o, c, a),
                    min(o, c, b),
                    c,
                    draw(st.integers(0, 10**7)),
                    draw(st.none() | st.integers(0, 10**8)),
                )
            )
        day = date.fromordinal(day.toordinal() + (3 if day.weekday() == 4 else 1))
    return candles


@settings(max_examples=60, deadline=None)
@given(data=st.data(), interval=st.sampled_from(INTERVALS))
def test_bars_built_from_candle_ticks_are_the_candles(data: st.DataObject, interval: str) -> None:
    """The aggregator rebuilds every candle exactly (OHLC, volume, OI, window) from the
    four ticks each candle is replayed as, for two instruments interleaved."""
    series = [
        CandleSeries(INFY, "NSE:INFY", interval, data.draw(candle_days(interval))),
        CandleSeries(TCS, "NSE:TCS", interval, data.draw(candle_days(interval))),
    ]
    buckets = SessionBuckets(interval)
    aggregator = BarAggregator(interval)
    built = [bar for t in candle_ticks(series, buckets) for bar in aggregator.on_tick(t)]
    built += aggregator.flush()
    expected = [candle_bar(s, c, buckets) for s in series for c in s.candles]
    key = lambda bar: (bar.start_ns, bar.instrument_token)  # noqa: E731
    assert sorted(built, key=key) == sorted(expected, key=key)


def test_candle_path_respects_direction() -> None:
    buckets = SessionBuckets("minute")
    rising = Candle(at("09:15"), Decimal(10), Decimal(12), Decimal(9), Decimal(11), 8)
    falling = Candle(at("09:16"), Decimal(11), Decimal(12), Decimal(9), Decimal(10), 8)
    series = CandleSeries(INFY, "NSE:INFY", "minute", [rising, falling])
    path = list(candle_ticks([series], buckets))
    assert [str(t.last_price) for t in path] == "10 9 12 11 11 12 9 10".split()
    assert [t.exchange_ts - at("09:15") for t in path[:4]] == [i * 15 * NS_PER_S for i in range(4)]
