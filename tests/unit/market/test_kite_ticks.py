"""Kite ticks become full ``Tick`` events with exchange time read as Asia/Kolkata, not UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.clock import IST, datetime_to_ns
from engine.instruments import UnknownInstrument, load_default_registry
from engine.market.feeds import tick_from_kite

REGISTRY = load_default_registry()
OPEN_IST_NS = datetime_to_ns(datetime(2024, 1, 15, 9, 15, 30, tzinfo=IST))


def _full_tick() -> dict[str, object]:
    """Shaped like pykiteconnect's on_ticks output in full mode."""
    return {
        "tradable": True,
        "mode": "full",
        "instrument_token": 408065,
        "last_price": 1520.55,
        "last_traded_quantity": 7,
        "average_traded_price": 1519.2,
        "volume_traded": 123456,
        "total_buy_quantity": 1000,
        "total_sell_quantity": 900,
        "ohlc": {"open": 1510.0, "high": 1525.35, "low": 1505.1, "close": 1508.95},
        "change": 0.77,
        "last_trade_time": datetime(2024, 1, 15, 9, 15, 29),
        "oi": 0,
        "exchange_timestamp": datetime(2024, 1, 15, 9, 15, 30),  # naive: exchange time
        "depth": {
            "buy": [
                {"quantity": 40, "price": 1520.5, "orders": 3},
                {"quantity": 10, "price": 1520.45, "orders": 1},
            ],
            "sell": [{"quantity": 25, "price": 1520.6, "orders": 2}],
        },
    }


def test_naive_exchange_timestamp_is_asia_kolkata_not_utc() -> None:
    tick = tick_from_kite(_full_tick(), REGISTRY)

    assert tick.exchange_ts == OPEN_IST_NS
    assert datetime.fromtimestamp(tick.exchange_ts / 1e9, UTC).hour == 3  # 09:15 IST = 03:45Z


def test_full_mode_keeps_the_whole_quote_and_depth() -> None:
    tick = tick_from_kite(_full_tick(), REGISTRY)

    assert tick.symbol == "NSE:INFY"
    assert tick.last_price == Decimal("1520.55")  # exact, not a binary float
    assert (tick.bid, tick.ask) == (Decimal("1520.5"), Decimal("1520.6"))
    assert (tick.bid_quantity, tick.ask_quantity) == (40, 25)
    assert (tick.volume, tick.last_quantity) == (123456, 7)
    assert tick.close == Decimal("1508.95") and tick.high == Decimal("1525.35")
    assert [level.price for level in tick.depth_buy] == [Decimal("1520.5"), Decimal("1520.45")]
    assert tick.oi == 0


def test_ltp_and_quote_modes_are_stamped_with_the_receive_time() -> None:
    ltp = {"tradable": True, "mode": "ltp", "instrument_token": 738561, "last_price": 2485.5}
    tick = tick_from_kite(ltp, REGISTRY, received_ns=OPEN_IST_NS)
    assert tick.exchange_ts == OPEN_IST_NS and tick.bid is None and tick.volume == 0

    with pytest.raises(ValueError, match="no exchange_timestamp"):
        tick_from_kite(ltp, REGISTRY)


def test_aware_timestamps_and_unknown_tokens() -> None:
    aware = {**_full_tick(), "exchange_timestamp": datetime(2024, 1, 15, 3, 45, 30, tzinfo=UTC)}
    assert tick_from_kite(aware, REGISTRY).exchange_ts == OPEN_IST_NS

    with pytest.raises(UnknownInstrument):
        tick_from_kite({**_full_tick(), "instrument_token": 42}, REGISTRY)
