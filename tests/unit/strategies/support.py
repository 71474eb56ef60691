"""Crafted tick sequences for strategy tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from engine.events.payloads import Tick
from engine.strategies import SignalIntent, Strategy

T0 = 1_705_290_300_000_000_000  # 2024-01-15 09:15 IST
TOKENS = {"NSE:RELIANCE": 738561, "NSE:INFY": 408065}


def tick(price: float, symbol: str = "NSE:RELIANCE", seq: int = 0) -> Tick:
    return Tick(
        instrument_token=TOKENS[symbol],
        symbol=symbol,
        last_price=Decimal(f"{price:.2f}"),
        exchange_ts=T0 + seq * 1_000_000_000,
    )


def ticks(prices: Iterable[float], symbol: str = "NSE:RELIANCE") -> list[Tick]:
    return [tick(p, symbol, i) for i, p in enumerate(prices)]


def run(strategy: Strategy, feed: Sequence[Tick]) -> list[tuple[int, str, SignalIntent]]:
    """(index in feed, symbol, intent) for every intent the strategy emits."""
    out = []
    for index, item in enumerate(feed):
        for intent in strategy.on_tick(item):
            out.append((index, item.symbol, intent))
    return out


def sides(signals: list[tuple[int, str, SignalIntent]]) -> list[str]:
    return [s[2].side.value for s in signals]


def v_shape(depth: int = 30, start: float = 200.0, step: float = 1.0) -> list[float]:
    down = [start - step * i for i in range(depth)]
    return down + [down[-1] + step * i for i in range(1, depth + 1)]


def inverted_v(depth: int = 30, start: float = 200.0, step: float = 1.0) -> list[float]:
    up = [start + step * i for i in range(depth)]
    return up + [up[-1] - step * i for i in range(1, depth + 1)]
