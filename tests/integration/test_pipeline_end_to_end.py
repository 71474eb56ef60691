"""The embedded runtime trades for a few seconds on SQLite and on the real PostgreSQL:
orders → fills → positions → P&L snapshots, all persisted and reconciling with each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from alphapanda_tui.runtime import build_runtime
from alphapanda_tui.settings import load_settings
from engine.events.types import OrderStatus
from engine.execution.funds import Funds
from storage.store import SqlTradingStore
from tests.helpers import eventually
from tests.integration.support import (
    BROKER,
    Ledger,
    postgres_database,
    settings_overrides,
)

STARTING_CASH = Decimal("1000000")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, isolated_home: Path) -> AsyncIterator[str]:
    """An empty database the runtime migrates itself: a file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{isolated_home / 'e2e.db'}"
        return
    admin_url = request.getfixturevalue("postgres_url")
    async with postgres_database(admin_url) as url:
        yield url


async def _fills(store: SqlTradingStore) -> int:
    return len(await store.list_fills(BROKER))


async def test_orders_fills_positions_and_pnl_are_persisted_and_consistent(
    database_url: str, isolated_home: Path
) -> None:
    settings = load_settings(
        **settings_overrides(
            isolated_home,
            database={"url": database_url},
            portfolio={"snapshot_interval_s": 0.3, "starting_cash": STARTING_CASH},
        )
    )
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        assert runtime.pipeline is not None
        store = runtime.pipeline.store
        await eventually(lambda: _fills(store), timeout=15, message="first fills")
        await eventually(
            _enough_activity(store), timeout=15, interval=0.1, message="trading activity"
        )
        paper_funds = runtime.pipeline.paper_funds
        assert paper_funds is not None
        await eventually(  # the console's funds line follows the fills
            lambda: _money(runtime.read_model.funds) == _money(paper_funds.figures()),
            message="the funds line shows the paper venue's funds",
        )
        shown = runtime.read_model.funds
        assert shown is not None and shown.available < STARTING_CASH  # charges came off it
    finally:
        await runtime.stop()

    async with await SqlTradingStore.open(database_url) as store:
        ledger = await Ledger.load(store)
        positions = await store.list_positions(BROKER)
        final = await store.latest_pnl_snapshot(BROKER)

    assert ledger.problems() == []
    assert any(o.status is OrderStatus.FILLED for o in ledger.orders)
    assert final is not None
    charges = sum((f.charges for f in ledger.fills), Decimal(0))
    traded = sum((f.side.sign * f.quantity * f.price for f in ledger.fills), Decimal(0))
    assert final.charges == charges
    assert final.cash == STARTING_CASH - traded - charges
    assert final.realized_pnl == sum((p.realized_pnl for p in positions), Decimal(0))
    assert sum((p.charges for p in positions), Decimal(0)) == charges
    # Positions are stored at each fill; the final snapshot marks them at the last tick.
    assert final.gross_exposure >= 0
    assert (final.equity - final.cash == 0) == all(p.net_quantity == 0 for p in positions)


def _money(funds: Funds | None) -> tuple[Decimal, Decimal] | None:
    """The funds line's figures: available and used (the time they were read aside)."""
    return None if funds is None else (funds.available, funds.used)


def _enough_activity(store: SqlTradingStore) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        fills = await store.list_fills(BROKER)
        snapshots = await store.latest_pnl_snapshot(BROKER)
        closed = {f.client_order_id for f in fills}
        return len(fills) >= 10 and len(closed) >= 5 and snapshots is not None

    return check
