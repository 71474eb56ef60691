"""Kite history through the real ``kiteconnect`` client against the loopback Kite: chunks as
Kite's per-interval limits say, at most 3 requests a second, resumable, stored exactly."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from kiteconnect import KiteConnect
from kiteconnect.exceptions import InputException

from engine.clock import IST, datetime_to_ns
from engine.zerodha.history import (
    MAX_DAYS_PER_REQUEST,
    HistoryFetchFailed,
    HistoryRequest,
    candle_of,
    fetch_history,
    history_limiter,
)
from engine.zerodha.rate_limit import OrderRateLimiter, RateLimits
from storage.candles.store import CandleStore
from tests.kite_fake.server import FakeKite

pytestmark = pytest.mark.kite
MOCKS = Path(__file__).parent / "kite_mocks"
INFY, TCS = 408065, 2953217
FAR_FUTURE = date(2100, 1, 1)  # "today" after every chunk: all complete


def client(fake: FakeKite) -> KiteConnect:
    fake.state.access_tokens.add("tok")
    return KiteConnect(api_key=fake.state.api_key, access_token="tok", root=fake.api_root)


def fetch(
    fake: FakeKite,
    store: CandleStore,
    request: HistoryRequest,
    limiter: OrderRateLimiter | None = None,
    today: date = FAR_FUTURE,
):
    return asyncio.run(
        fetch_history(client(fake), request, store, limiter or history_limiter(), today=today)
    )


def test_zerodhas_mock_candles_read_exactly(fake_kite: FakeKite) -> None:
    """Zerodha's own historical_minute.json, served as is, becomes exact decimal candles."""
    path = f"/instruments/historical/{INFY}/minute"
    body = (MOCKS / "historical_minute.json").read_bytes()
    fake_kite.state.canned[("GET", path)] = (200, body, "application/json")
    rows = client(fake_kite).historical_data(
        INFY, "2017-12-15 09:15:00", "2017-12-15 09:20:00", "minute"
    )
    first = candle_of(rows[0])
    at_open = datetime(2017, 12, 15, 9, 15, tzinfo=IST)
    assert first.start_ns == datetime_to_ns(at_open)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("1704.5"),
        Decimal("1705"),
        Decimal("1699.25"),
        Decimal("1702.8"),
        2499,
    )
    assert first.oi is None and len(rows) == 6


@pytest.mark.parametrize("oi", [False, True])
def test_the_fake_answers_in_the_shape_of_zerodhas_mock(fake_kite: FakeKite, oi: bool) -> None:
    mock = json.loads(
        (MOCKS / ("historical_oi.json" if oi else "historical_minute.json")).read_text()
    )
    kite = client(fake_kite)
    ours = kite._get(  # the raw payload, before the client's formatting
        "market.historical",
        url_args={"instrument_token": INFY, "interval": "minute"},
        params={"from": "2024-01-15 09:15:00", "to": "2024-01-15 09:20:00", "oi": int(oi)},
    )
    shape = lambda row: [type(v).__name__ if not isinstance(v, float) else "int" for v in row]  # noqa: E731
    assert shape(ours["candles"][0]) == shape(mock["data"]["candles"][0])
    assert ours["candles"][0][0] == "2024-01-15T09:15:00+0530"
    assert set(ours) == set(mock["data"])


@pytest.mark.parametrize("interval", list(MAX_DAYS_PER_REQUEST))
def test_the_fake_refuses_one_day_more_than_kite_allows(fake_kite: FakeKite, interval: str) -> None:
    limit = MAX_DAYS_PER_REQUEST[interval]
    start = datetime(2024, 1, 1)
    kite = client(fake_kite)
    kite.historical_data(INFY, start, start + timedelta(days=limit), interval)
    with pytest.raises(InputException, match=f"max limit: {limit} days"):
        kite.historical_data(INFY, start, start + timedelta(days=limit, seconds=1), interval)


@pytest.mark.parametrize("interval", list(MAX_DAYS_PER_REQUEST))
def test_a_range_is_fetched_in_kites_largest_chunks(
    fake_kite: FakeKite, tmp_path: Path, interval: str
) -> None:
    """A range one day longer than the maximum: one full chunk, then that one day."""
    limit = MAX_DAYS_PER_REQUEST[interval]
    first = date(2019, 1, 1) if interval == "day" else date(2024, 1, 1)
    last = first + timedelta(days=limit)
    request = HistoryRequest(INFY, "NSE:INFY", interval, first, last)
    result = fetch(fake_kite, CandleStore(tmp_path), request)
    end_of_first = first + timedelta(days=limit - 1)
    assert fake_kite.historical.chunks() == [
        (f"{first} 00:00:00", f"{end_of_first} 23:59:59"),
        (f"{last} 00:00:00", f"{last} 23:59:59"),
    ]
    assert (result.fetched, result.skipped, result.throttled) == (2, 0, 0)
    stored = CandleStore(tmp_path).read("NSE:INFY", interval)
    assert len(stored) == result.candles > 0
    assert stored == sorted(stored, key=lambda c: c.start_ns)


def test_requests_keep_to_three_a_second_by_the_servers_clock(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    """Nine chunks (day candles of three instruments): Kite never sees a fourth request
    within a second, so it never answers 429."""
    store = CandleStore(tmp_path)
    limiter = history_limiter()
    for token, symbol in ((INFY, "NSE:INFY"), (TCS, "NSE:TCS"), (738561, "NSE:RELIANCE")):
        request = HistoryRequest(token, symbol, "day", date(2004, 1, 1), date(2020, 1, 1))
        assert fetch(fake_kite, store, request, limiter).fetched == 3
    arrivals = fake_kite.historical.arrivals
    assert len(arrivals) == 9 and fake_kite.historical.throttled == 0
    spans = [arrivals[i + 3] - arrivals[i] for i in range(len(arrivals) - 3)]
    assert min(spans) >= 1.0  # any four requests span a full second


def test_a_429_pauses_and_fetches_the_same_chunk_again(fake_kite: FakeKite, tmp_path: Path) -> None:
    fake_kite.historical.per_second = 1  # Kite stricter than our budget: it says 429
    limiter = OrderRateLimiter(RateLimits(per_second=3, backoff_initial_s=0.2, backoff_max_s=1))
    request = HistoryRequest(INFY, "NSE:INFY", "day", date(2010, 1, 1), date(2020, 1, 1))
    result = fetch(fake_kite, CandleStore(tmp_path), request, limiter)
    assert result.fetched == 2 and result.throttled >= 1
    assert len(fake_kite.historical.chunks()) == 2  # each chunk answered once, none skipped


def test_an_interrupted_fetch_run_again_asks_only_for_what_is_missing(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    request = HistoryRequest(INFY, "NSE:INFY", "minute", date(2024, 1, 1), date(2024, 4, 30))
    fake_kite.historical.drop_requests = {2}  # the connection drops on the second chunk
    store = CandleStore(tmp_path / "interrupted")
    with pytest.raises(HistoryFetchFailed, match=r"2024-03-01\.\.2024-04-29"):
        fetch(fake_kite, store, request)
    assert fake_kite.historical.chunks() == [("2024-01-01 00:00:00", "2024-02-29 23:59:59")]
    fake_kite.historical.log.clear()

    resumed = fetch(fake_kite, store, request)

    assert (resumed.skipped, resumed.fetched) == (1, 2)
    assert fake_kite.historical.chunks() == [
        ("2024-03-01 00:00:00", "2024-04-29 23:59:59"),
        ("2024-04-30 00:00:00", "2024-04-30 23:59:59"),
    ]
    whole = CandleStore(tmp_path / "whole")
    fetch(fake_kite, whole, request)
    assert store.read("NSE:INFY", "minute") == whole.read("NSE:INFY", "minute")


def test_a_chunk_reaching_today_is_fetched_again_next_time(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    """Today's candles are still being made: stored, never recorded as done, and the
    second fetch replaces its days rather than doubling them."""
    store = CandleStore(tmp_path)
    request = HistoryRequest(INFY, "NSE:INFY", "5minute", date(2024, 1, 15), date(2024, 1, 16))
    first = fetch(fake_kite, store, request, today=date(2024, 1, 16))
    again = fetch(fake_kite, store, request, today=date(2024, 1, 16))
    assert (first.fetched, again.fetched, again.skipped) == (1, 1, 0)
    assert len(store.read("NSE:INFY", "5minute")) == 2 * 75
    done = fetch(fake_kite, store, request, today=date(2024, 1, 17))
    assert (done.fetched, fetch(fake_kite, store, request).skipped) == (1, 1)


def test_open_interest_asked_later_refetches_chunks_stored_without_it(
    fake_kite: FakeKite, tmp_path: Path
) -> None:
    store = CandleStore(tmp_path)
    plain = HistoryRequest(INFY, "NSE:INFY", "day", date(2024, 1, 1), date(2024, 1, 31))
    fetch(fake_kite, store, plain)
    with_oi = HistoryRequest(INFY, "NSE:INFY", "day", date(2024, 1, 1), date(2024, 1, 31), oi=True)
    assert fetch(fake_kite, store, with_oi).fetched == 1
    assert all(c.oi is not None for c in store.read("NSE:INFY", "day"))
    assert fetch(fake_kite, store, plain).skipped == 1
