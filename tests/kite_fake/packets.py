"""Binary tick packets exactly as Kite's ticker sends them (big-endian; see KITE_FACTS §4)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

INDEX_SEGMENT = 9


@dataclass
class FakeQuote:
    """What the fake exchange knows about one instrument; prices in rupees."""

    token: int
    last_price: float
    last_quantity: int = 1
    average_price: float = 0.0
    volume: int = 0
    buy_quantity: int = 0
    sell_quantity: int = 0
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    last_trade_time: int = 0  # epoch seconds
    exchange_timestamp: int = 0  # epoch seconds
    oi: int = 0
    depth_buy: list[tuple[int, float, int]] = field(default_factory=list)  # (qty, price, orders)
    depth_sell: list[tuple[int, float, int]] = field(default_factory=list)


def _divisor(token: int) -> int:
    segment = token & 0xFF
    if segment == 3:
        return 10_000_000
    if segment in (6, 12):
        return 10_000
    return 100


def _p(price: float, token: int) -> int:
    return round(price * _divisor(token))


def ltp_packet(q: FakeQuote) -> bytes:
    return struct.pack(">II", q.token, _p(q.last_price, q.token))


def quote_packet(q: FakeQuote) -> bytes:
    t = q.token
    if t & 0xFF == INDEX_SEGMENT:
        return struct.pack(
            ">IIIIIII",
            t,
            _p(q.last_price, t),
            _p(q.high, t),
            _p(q.low, t),
            _p(q.open, t),
            _p(q.close, t),
            0,
        )
    return struct.pack(
        ">IIIIIIIIIII",
        t,
        _p(q.last_price, t),
        q.last_quantity,
        _p(q.average_price, t),
        q.volume,
        q.buy_quantity,
        q.sell_quantity,
        _p(q.open, t),
        _p(q.high, t),
        _p(q.low, t),
        _p(q.close, t),
    )


def full_packet(q: FakeQuote) -> bytes:
    t = q.token
    if t & 0xFF == INDEX_SEGMENT:
        return quote_packet(q) + struct.pack(">I", q.exchange_timestamp)
    head = quote_packet(q) + struct.pack(
        ">IIIII", q.last_trade_time, q.oi, q.oi, q.oi, q.exchange_timestamp
    )
    depth = b""
    for side in (q.depth_buy, q.depth_sell):
        levels = (side + [(0, 0.0, 0)] * 5)[:5]
        for qty, price, orders in levels:
            depth += struct.pack(">IIHxx", qty, _p(price, t), orders)
    return head + depth


def frame(packets: list[bytes]) -> bytes:
    """Many packets in one binary message: count, then (length, bytes) per packet."""
    out = struct.pack(">H", len(packets))
    for packet in packets:
        out += struct.pack(">H", len(packet)) + packet
    return out
