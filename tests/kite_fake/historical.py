"""``GET /instruments/historical/{token}/{interval}`` on the loopback Kite, as Kite answers it.

Candles are deterministic per instrument and bar (seeded by both), only on NSE trading
days and within the 09:15-15:30 session, aligned as Kite aligns them; a day candle is
stamped 00:00 IST. The payload is the shape of Zerodha's mock ``historical_minute.json``
(``[timestamp "+0530", o, h, l, c, volume(, oi)]``). Kite's limits are enforced: a range
longer than the interval's maximum is a 400 InputException, more than 3 requests in a
second a 429. Tests script connection drops by request number and read the request log
with arrival times.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from engine.clock import IST, NS_PER_S, datetime_to_ns, ns_to_datetime
from engine.market.bars import INTRADAY_SECONDS, SessionBuckets
from engine.zerodha.history import MAX_DAYS_PER_REQUEST

PREFIX = "/instruments/historical/"
_KITE_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class HistoricalState:
    """The endpoint's limits, its log and its scripted failures."""

    per_second: int = 3
    # (arrival time.monotonic(), token, interval, from, to) of every request answered 200
    log: list[tuple[float, int, str, str, str]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # every request, refused ones too
    throttled: int = 0
    drop_requests: set[int] = field(default_factory=set)  # 1-based numbers to hang up on
    lock: threading.Lock = field(default_factory=threading.Lock)

    def chunks(self) -> list[tuple[str, str]]:
        return [(entry[3], entry[4]) for entry in self.log]


def handle(h: Any, path: str, params: dict[str, Any]) -> None:
    """The route: validate as Kite does, then answer the candles of the range."""
    state: HistoricalState = h.server.fake.historical
    if not h._authorized():
        return
    now = time.monotonic()
    with state.lock:
        state.arrivals.append(now)
        number = len(state.arrivals)
        recent = [t for t in state.arrivals[:-1] if now - t < 1.0]
        if number in state.drop_requests:
            h.close_connection = True  # no answer: the client sees the connection drop
            return
        if len(recent) >= state.per_second:
            state.throttled += 1
            h._send(429, _error("NetworkException", "Too many requests"))
            return
    token_text, _, interval = path[len(PREFIX) :].partition("/")
    problem = _problem(token_text, interval, params)
    if problem is not None:
        h._send(400, _error("InputException", problem))
        return
    first = datetime.strptime(params["from"], _KITE_TIME).replace(tzinfo=IST)
    last = datetime.strptime(params["to"], _KITE_TIME).replace(tzinfo=IST)
    with state.lock:
        state.log.append((now, int(token_text), interval, params["from"], params["to"]))
    rows = candles(int(token_text), interval, first, last, with_oi=params.get("oi") == "1")
    body = json.dumps({"status": "success", "data": {"candles": rows}}).encode()
    h._send(200, body)


def _problem(token_text: str, interval: str, params: dict[str, Any]) -> str | None:
    if not token_text.isdigit():
        return "invalid token"
    if interval not in MAX_DAYS_PER_REQUEST:
        return "invalid interval"
    try:
        first = datetime.strptime(params.get("from", ""), _KITE_TIME)
        last = datetime.strptime(params.get("to", ""), _KITE_TIME)
    except ValueError:
        return "invalid from date or to date"
    if last < first:
        return "invalid from date or to date"
    limit = MAX_DAYS_PER_REQUEST[interval]
    if last - first > timedelta(days=limit):
        return f"interval exceeds max limit: {limit} days"
    return None


def candles(
    token: int, interval: str, first: datetime, last: datetime, *, with_oi: bool
) -> list[list[Any]]:
    """The candles of [first, last] (IST), oldest first, as Kite's JSON arrays."""
    buckets = SessionBuckets(interval)
    step_ns = INTRADAY_SECONDS.get(interval, 0) * NS_PER_S
    start_ns, end_ns = datetime_to_ns(first), datetime_to_ns(last)
    rows: list[list[Any]] = []
    day: date = first.date()
    while day <= last.date():
        session = buckets.session_of(day)
        day += timedelta(days=1)
        if session is None:
            continue
        if not step_ns:  # a day candle is stamped 00:00 IST
            midnight = session[0] - (9 * 3600 + 15 * 60) * NS_PER_S
            if start_ns <= midnight <= end_ns:
                rows.append(_row(token, midnight, with_oi))
            continue
        for bar_start in range(session[0], session[1], step_ns):
            if start_ns <= bar_start <= end_ns:
                rows.append(_row(token, bar_start, with_oi))
    return rows


def _row(token: int, start_ns: int, with_oi: bool) -> list[Any]:
    draw = random.Random(f"{token}:{start_ns}")
    base = 1000 + draw.randint(0, 400)
    o, c = base + draw.randint(-20, 20) * 0.05, base + draw.randint(-20, 20) * 0.05
    high = max(o, c) + draw.randint(0, 10) * 0.05
    low = min(o, c) - draw.randint(0, 10) * 0.05
    stamp = ns_to_datetime(start_ns, IST).strftime("%Y-%m-%dT%H:%M:%S%z")
    row: list[Any] = [stamp, *(round(p, 2) for p in (o, high, low, c)), draw.randint(0, 50_000)]
    if with_oi:
        row.append(draw.randint(0, 10**7))
    return row


def _error(error_type: str, message: str) -> bytes:
    return json.dumps(
        {"status": "error", "message": message, "data": None, "error_type": error_type}
    ).encode()
