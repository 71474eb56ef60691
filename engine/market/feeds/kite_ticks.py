"""Convert a KiteTicker tick dict (ltp, quote or full mode) into a ``Tick``.

pykiteconnect builds ``exchange_timestamp`` with ``datetime.fromtimestamp``: a naive
datetime that means exchange time, Asia/Kolkata. Taking it as UTC shifts every tick by
5 h 30 min, so a naive time is read in ``naive_tz`` (IST unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events.payloads import DepthLevel, Tick
from engine.instruments.registry import InstrumentRegistry


def tick_from_kite(
    d: Mapping[str, Any],
    registry: InstrumentRegistry,
    *,
    received_ns: int | None = None,
    naive_tz: tzinfo = IST,
) -> Tick:
    """One Kite tick. ``received_ns`` stamps ltp/quote ticks, which carry no exchange time.

    Raises ``UnknownInstrument`` for a token the registry lacks and ``ValueError`` for a
    tick with no usable time or a malformed field; the caller dead-letters it.
    """
    token = int(d["instrument_token"])
    instrument = registry.by_token(token)
    ts = _timestamp(d.get("exchange_timestamp"), naive_tz)
    if ts is None:
        ts = _timestamp(d.get("last_trade_time"), naive_tz) if d.get("mode") == "full" else None
    if ts is None:
        if received_ns is None:
            raise ValueError(f"tick for {instrument.key} has no exchange_timestamp")
        ts = received_ns
    ohlc = d.get("ohlc") or {}
    depth = d.get("depth") or {}
    buy = _depth(depth.get("buy") or ())
    sell = _depth(depth.get("sell") or ())
    best_bid = buy[0] if buy and buy[0].quantity > 0 else None
    best_ask = sell[0] if sell and sell[0].quantity > 0 else None
    return Tick(
        instrument_token=token,
        symbol=instrument.key,
        last_price=_price(d["last_price"]),
        exchange_ts=ts,
        last_quantity=int(d.get("last_traded_quantity") or 0),
        volume=int(d.get("volume_traded") or 0),
        bid=best_bid.price if best_bid else None,
        ask=best_ask.price if best_ask else None,
        bid_quantity=best_bid.quantity if best_bid else 0,
        ask_quantity=best_ask.quantity if best_ask else 0,
        open=_optional_price(ohlc.get("open")),
        high=_optional_price(ohlc.get("high")),
        low=_optional_price(ohlc.get("low")),
        close=_optional_price(ohlc.get("close")),
        oi=int(d["oi"]) if d.get("oi") is not None and d.get("mode") == "full" else None,
        depth_buy=buy,
        depth_sell=sell,
    )


def _timestamp(value: object, naive_tz: tzinfo) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=naive_tz)
        return datetime_to_ns(moment)
    if isinstance(value, int | float):  # epoch seconds are UTC by definition
        return int(value * NS_PER_S)
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return datetime_to_ns(moment if moment.tzinfo else moment.replace(tzinfo=naive_tz))
    raise ValueError(f"unsupported timestamp {value!r}")


def _price(value: object) -> Decimal:
    """Kite sends floats of paise/100: ``str`` keeps 2485.55 exact, unlike ``Decimal(float)``."""
    price = Decimal(str(value))
    if not price.is_finite() or price < 0:
        raise ValueError(f"bad price {value!r}")
    return price


def _optional_price(value: object) -> Decimal | None:
    return None if value is None else _price(value)


def _depth(levels: Sequence[Mapping[str, Any]]) -> tuple[DepthLevel, ...]:
    return tuple(
        DepthLevel(
            price=_price(level.get("price", 0)),
            quantity=int(level.get("quantity", 0)),
            orders=int(level.get("orders", 0)),
        )
        for level in levels
    )
