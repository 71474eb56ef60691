"""Property: however order updates and trade rows of one order interleave, the journal
ends with each trade once and the order filled by exactly the sum of its trades.

The real ``kiteconnect`` client reads the loopback Kite; hypothesis scripts the broker:
trades executed (listed at once or lagging behind the order row), lagging trades
listed, the row pushed, the book polled, an old row pushed again, a cancellation.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events.types import OrderStatus
from tests.kite_fake.server import FakeKite
from tests.zerodha.fill_harness import live_execution

pytestmark = pytest.mark.kite
_seeds = itertools.count()
ACTIONS = st.lists(st.sampled_from(["exec", "list", "push", "poll", "stale"]), max_size=16)


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeKite]:
    with FakeKite() as fake:
        yield fake


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[int], list[bool], int, bool, list[str]]:
    sizes = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
    lags = draw(st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes)))
    unfilled = draw(st.sampled_from([0, 0, 7]))
    cancelled = unfilled > 0 and draw(st.booleans())
    return sizes, lags, sum(sizes) + unfilled, cancelled, draw(ACTIONS)


async def _run(fake: FakeKite, home: Path, scenario: tuple) -> None:  # type: ignore[type-arg]
    sizes, lags, quantity, cancelled, actions = scenario
    live = await live_execution(fake, home, lag_backoff_polls=1)
    cid, order_id = await live.place(f"sig-prop-{next(_seeds)}", quantity)
    rows = [dict(fake.state.orders[order_id])]
    executed = 0

    def execute() -> None:
        nonlocal executed
        lag = None if lags[executed] else 0
        price = 1500.0 + executed
        rows.append(fake.fill_order(order_id, price, sizes[executed], push=False, trade_lag=lag))
        executed += 1

    for i, action in enumerate(actions):
        if action == "exec" and executed < len(sizes):
            execute()
        elif action == "list":
            hidden = [t for t in fake.state.trades if t["trade_id"] in fake.state.hidden_trades]
            if hidden:
                fake.state.hidden_trades.pop(hidden[0]["trade_id"], None)
        elif action == "push":
            await live.updates.ingest(dict(fake.state.orders[order_id]))
        elif action == "poll":
            await live.updates.poll_once()
        elif action == "stale":
            await live.updates.ingest(rows[i % len(rows)])
    while executed < len(sizes):
        execute()
    if cancelled:
        await live.updates.ingest(fake.set_status(order_id, "CANCELLED", push=False))
    fake.release_trades(order_id)
    await live.updates.ingest(dict(fake.state.orders[order_id]))
    for _ in range(3):
        await live.updates.poll_once()

    trades = [
        (t["trade_id"], t["quantity"]) for t in fake.state.trades if t["order_id"] == order_id
    ]
    journal = live.journal(cid)
    assert sorted(journal) == sorted(trades)  # each trade once, none missing
    order = await live.order(cid)
    assert order.filled_quantity == sum(q for _, q in journal) == sum(sizes)
    assert live.position() == sum(sizes)
    if sum(sizes) == quantity:
        assert order.status is OrderStatus.FILLED
    elif cancelled:
        assert order.status is OrderStatus.CANCELLED
    else:
        assert order.status is OrderStatus.PARTIALLY_FILLED
    assert live.updates.lagging == []


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_any_interleaving_journals_each_trade_once_and_fills_by_their_sum(
    shared_fake: FakeKite,
    scenario: tuple,  # type: ignore[type-arg]
) -> None:
    with tempfile.TemporaryDirectory() as home:
        asyncio.run(_run(shared_fake, Path(home), scenario))
