"""A crashed engine (SIGKILL mid-run) restarts without sending an order twice or losing a fill.

The real ``alphapanda engine`` runs on a SQLite file with a fast simulated market; it
is killed while orders and fills are flowing, restarted on the same file, left to trade
again and stopped gracefully. The books must then reconcile as a trader would check them.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from engine.events.types import OrderStatus
from storage.store import SqlTradingStore
from tests.integration.support import BROKER, EngineProcess, Ledger, SqliteDb, poll

pytestmark = pytest.mark.slow


async def test_sigkill_mid_run_then_restart_keeps_orders_and_fills_consistent(
    isolated_home: Path,
) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    first = EngineProcess.start(isolated_home, run=1)
    try:
        await first.started()
        await poll(
            lambda: db.count("orders") >= 15 and db.count("fills") >= 10,
            15,
            "orders and fills before the crash",
        )
        first.send(signal.SIGKILL)
        assert first.wait() == -signal.SIGKILL
    finally:
        first.close()
    orders_at_crash = db.count("orders")
    fills_at_crash = db.count("fills")
    sent_at_crash = {
        coid
        for (coid,) in db.rows(
            "SELECT client_order_id FROM orders WHERE broker_order_id IS NOT NULL"
        )
    }

    second = EngineProcess.start(isolated_home, run=2)
    try:
        await second.started()
        await poll(
            lambda: db.count("fills") >= fills_at_crash + 10,
            15,
            "new fills after the restart",
        )
        second.send(signal.SIGTERM)
        assert second.wait() == 0, second.output[-3000:]
    finally:
        second.close()

    async with await SqlTradingStore.open(f"sqlite+aiosqlite:///{db.path}") as store:
        ledger = await Ledger.load(store, BROKER)
    assert ledger.problems() == []
    assert len(ledger.orders) > orders_at_crash
    # Nothing stays in the outbox unsent, and no order survives a restart as "working"
    # with a venue that forgot it: each was sent, rejected, filled or cancelled.
    stuck = [o.client_order_id for o in ledger.orders if o.status is OrderStatus.PENDING]
    assert stuck == []
    # An order the first run had already sent is never handed to the venue again: a resend
    # to the fresh paper venue would trade again under the same trade ids.
    for output in (first.output, second.output):
        assert "duplicate trade id ignored" not in output
        assert "Traceback" not in output
    by_id = {o.client_order_id: o for o in ledger.orders}
    assert sent_at_crash <= set(by_id)
    restarted = [o for o in ledger.orders if o.reason == "paper session restarted"]
    assert all(o.status is OrderStatus.CANCELLED for o in restarted)
