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

from engine.domain.records import PositionRecord
from engine.events.types import Broker
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
