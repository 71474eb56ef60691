"""The shell's books as a trader reads them: one heading per column, clock time in
Asia/Kolkata, money right-aligned with every paisa (never rounded), '-' for nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from alphapanda_tui.books_cli import table
from alphapanda_tui.commands import orders, positions, trades
from engine.clock import IST
from engine.events.payloads import PositionSnapshot
from engine.events.types import Broker, OrderStatus, Side
from tests.stored import stored_fill, stored_order

NINE_FIFTEEN_NS = int(datetime(2026, 12, 7, 9, 15, 2, tzinfo=IST).timestamp() * 1e9)


def test_the_orders_table_heads_every_column_and_keeps_every_paisa() -> None:
    rejected = stored_order(
        "m-2",
        created_ts=NINE_FIFTEEN_NS,
        price=Decimal("12.3456"),
        status=OrderStatus.REJECTED,
        reason="funds: needs 61.73",
    )
    working = stored_order("m-1", status=OrderStatus.OPEN, created_ts=NINE_FIFTEEN_NS)
    header, first, second = table([working, rejected], orders.COLUMNS).splitlines()

    assert header.split() == [
        *"placed order strategy side qty symbol type product price trigger status".split(),
        *"filled avg reason".split(),
    ]
    assert first.split()[:11] == [
        *"09:15:02 m-1 manual BUY 10 NSE:INFY LIMIT CNC".split(),
        "1,574.20",
        "-",
        "OPEN",
    ]
    assert "12.3456" in second and second.endswith("funds: needs 61.73")
    # money is right-aligned: both prices end in the same column
    assert first.index("1,574.20") + len("1,574.20") == second.index("12.3456") + len("12.3456")


def test_trades_and_positions_read_their_own_fields() -> None:
    fill = msgspec.structs.replace(
        stored_fill("m-1", "T1", 5, NINE_FIFTEEN_NS),
        side=Side.SELL,
        price=Decimal("1580.25"),
        charges=Decimal("2.37"),
    )
    header, row = table([fill], trades.COLUMNS).splitlines()
    assert header.split() == "time trade order strategy side qty symbol price charges".split()
    assert row.split() == "09:15:02 T1 m-1 manual SELL 5 NSE:INFY 1,580.25 2.37".split()

    # ``positions`` shows each stored position with its part of the trading day
    # (``engine.read_model.seed.day_positions``): a position snapshot, not the record
    held = PositionSnapshot(
        broker=Broker.PAPER,
        strategy="manual",
        instrument_token=408065,
        symbol="NSE:INFY",
        net_quantity=-5,
        average_price=Decimal("1580.25"),
        last_price=Decimal("1575"),
        realized_pnl=Decimal("12.50"),
        unrealized_pnl=Decimal("26.25"),
        charges=Decimal("4.10"),
        trading_day="2025-01-15",
        day_realized_pnl=Decimal("0"),
        day_unrealized_pnl=Decimal("26.25"),
        day_charges=Decimal("2.37"),
    )
    header, row = table([held], positions.COLUMNS).splitlines()
    assert (
        header.split()
        == (
            "strategy symbol net avg last stored day realised day charges realised (all days)"
        ).split()
    )
    assert row.split() == "manual NSE:INFY -5 1,580.25 1,575.00 0.00 2.37 12.50".split()
