"""``alphapanda positions --all`` adds the positions closed today, as its help says, not every
position ever closed.

Seen on a console home after a few simulated days: on 08 Dec ``positions --all`` listed
``manual NSE:TCS 0 ... -110.70`` and three more flat rows closed on 07 Dec, each with its
old realised P&L, beside the day's, with nothing to tell them apart.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from engine.domain.records import FillRecord, PositionRecord
from engine.events.types import Broker, Side
from engine.portfolio.book import PortfolioBook
from tests.integration.support import cli, engine_env
from tests.kafka.cluster import settings_for

TODAY_NS = 1_796_614_749_000_000_000  # a weekday morning, IST
YESTERDAY_NS = TODAY_NS - 86_400 * 1_000_000_000


def _position(strategy: str, symbol: str, net: int, realized: str, ts: int) -> PositionRecord:
    return PositionRecord(
        broker=Broker.PAPER,
        strategy=strategy,
        instrument_token=abs(hash(symbol)) % 1_000_000,
        symbol=symbol,
        net_quantity=net,
        average_price=Decimal("100") if net else Decimal("0"),
        realized_pnl=Decimal(realized),
        updated_ts=ts,
    )


async def test_positions_all_lists_open_ones_and_those_closed_today(tmp_path: Path) -> None:
    from alphapanda_tui.store_opening import open_store

    store = await open_store(settings_for(engine_env(tmp_path)))
    try:
        for position in (
            _position("manual", "NSE:TCS", 0, "-110.70", YESTERDAY_NS),  # closed yesterday
            _position("rsi", "NSE:INFY", 0, "62.50", TODAY_NS),  # closed today
            _position("swing", "NSE:ITC", 20, "0", YESTERDAY_NS),  # carried, still open
        ):
            await store.upsert_position(position)
    finally:
        await store.aclose()

    done = cli(tmp_path, "positions", "--all", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    rows = {(p["strategy"], p["symbol"]): p["net_quantity"] for p in json.loads(done.stdout)}
    assert rows == {("rsi", "NSE:INFY"): 0, ("swing", "NSE:ITC"): 20}
    assert [line.split()[:3] for line in cli(tmp_path, "positions").stdout.splitlines()[1:]] == [
        ["swing", "NSE:ITC", "20"]
    ]


def _fill(n: int, side: Side, price: str, ts: int) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=f"t{n}",
        client_order_id=f"o{n}",
        strategy="rsi",
        instrument_token=2953217,
        symbol="NSE:TCS",
        side=side,
        quantity=10,
        price=Decimal(price),
        charges=Decimal("2.50"),
        fill_ts=ts,
    )


async def test_positions_show_the_days_realised_and_label_the_lifetime_one(
    tmp_path: Path,
) -> None:
    """The console's positions panel shows the day's realised P&L; the CLI said
    ``realised 400.00`` for the same row, the figure since the first fill, unlabelled."""
    from alphapanda_tui.store_opening import open_store

    fills = [  # +500 yesterday, -100 today: the row the console shows at -100.00
        _fill(1, Side.BUY, "3500", YESTERDAY_NS),
        _fill(2, Side.SELL, "3550", YESTERDAY_NS + 60_000_000_000),
        _fill(3, Side.BUY, "3600", TODAY_NS),
        _fill(4, Side.SELL, "3590", TODAY_NS + 60_000_000_000),
    ]
    book = PortfolioBook(Broker.PAPER, Decimal("1000000"))
    store = await open_store(settings_for(engine_env(tmp_path)))
    try:
        for fill in fills:
            position = book.apply_fill(fill)
            assert position is not None
            await store.record_fill(fill, position)
        await store.add_pnl_snapshot(PortfolioBook.snapshot_record(book.snapshot(TODAY_NS)))
    finally:
        await store.aclose()

    done = cli(tmp_path, "positions", "--all", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = json.loads(done.stdout)
    figures = [Decimal(row[k]) for k in ("day_realized_pnl", "day_charges", "realized_pnl")]
    assert figures == [Decimal("-100"), Decimal("5"), Decimal("400")]
    text = cli(tmp_path, "positions", "--all").stdout.splitlines()
    assert "day realised" in text[0] and "realised (all days)" in text[0]
    assert "last stored" in text[0]  # not the market's price now
    assert text[1].split()[5:8] == ["-100.00", "5.00", "400.00"]
