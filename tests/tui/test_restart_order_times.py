"""Orders the paper venue loses at a stop or a crash are closed on the simulated market's
clock, not the wall clock.

Seen in QA: after a SIGKILL with limit orders working at SIM 10:27, the restart cancelled
them at 06:37 (the wall clock in IST): before they were placed, below the morning's fills
in the orders panel, and outside the session.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import textual.app
import textual.pilot

from alphapanda_tui.market_resume import market_left
from engine.domain.records import OrderRecord
from engine.events.types import Broker, OrderStatus
from storage.store import SqlTradingStore
from tests.helpers import eventually
from tests.tui.test_real_runtime import _one_turn
from tests.tui.test_restart_keeps_the_market import _settings, console_on


@pytest.fixture(autouse=True)
def keys_do_not_wait_for_an_idle_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textual.app, "wait_for_idle", _one_turn)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _one_turn)


async def _whales(home: Path) -> list[OrderRecord]:
    async with await SqlTradingStore.open(_settings(home).database.url or "") as store:
        orders = await store.list_orders(Broker.PAPER, limit=10_000)
    return [o for o in orders if o.strategy == "whale"]


async def test_lost_paper_orders_close_on_the_market_clock(isolated_home: Path) -> None:
    async with console_on(isolated_home, ticking=True) as app:
        model = app.handle.read_model
        await eventually(
            lambda: any(o.strategy == "whale" for o in model.open_orders()),
            timeout=30,
            message="the whale has no working order",
        )
        placed = max(o.update_ts for o in model.open_orders() if o.strategy == "whale")
    # A graceful stop cancels them at the market's last event, not before it.
    stopped = [o for o in await _whales(isolated_home) if o.reason.startswith("paper session")]
    assert stopped, "no working order was cancelled at the stop"
    assert all(o.updated_ts >= o.created_ts for o in stopped)
    assert max(o.updated_ts for o in stopped) >= placed

    # A crash leaves them OPEN instead: the restart closes them where the market resumes.
    settings = _settings(isolated_home)
    async with await SqlTradingStore.open(settings.database.url or "") as store:
        for order in stopped:
            left_open = msgspec.structs.replace(
                order, status=OrderStatus.OPEN, reason="", updated_ts=order.created_ts
            )
            await store.update_order(left_open)
        resumed = (await market_left(settings, store, Broker.PAPER)).after_ns
    assert resumed is not None
    async with console_on(isolated_home, ticking=False):
        pass
    restarted = {o.client_order_id: o for o in await _whales(isolated_home)}
    for order in stopped:
        closed = restarted[order.client_order_id]
        assert (closed.status, closed.reason) == (OrderStatus.CANCELLED, "paper session restarted")
        assert closed.updated_ts == resumed, "stamped with the wall clock, not the market's"
