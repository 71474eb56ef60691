"""The read model's orders book and trade book: each order's way to its end, and every
fill exactly once, whatever the bus redelivers or the store already held."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.records import FillRecord, RiskAlertRecord
from engine.events.payloads import Fill, OrderUpdate, RejectedSignal, Signal
from engine.events.types import Broker, OrderStatus, Severity, Side
from engine.memory_store import MemoryTradingStore
from engine.read_model import ReadModel
from engine.read_model.model import REJECTIONS, TRADES
from engine.read_model.seed import seed_read_model
from tests.stored import stored_order
from tests.tui.harness import NS, START_NS, order

DAY = 24 * 3600 * NS


def _filled(coid: str, trade_id: str, qty: int, price: str, charges: str, at: int) -> OrderUpdate:
    update = order(coid, "NSE:INFY", OrderStatus.FILLED, quantity=qty, filled=qty, at=at)
    fill = Fill(
        trade_id=trade_id,
        quantity=qty,
        price=Decimal(price),
        charges=Decimal(charges),
        fill_ts=START_NS + at * NS,
    )
    return msgspec.structs.replace(update, fill=fill)


def test_an_orders_history_is_the_way_it_went() -> None:
    model = ReadModel()
    for status, at in ((OrderStatus.SUBMITTED, 0), (OrderStatus.OPEN, 1)):
        model.apply_order(order("c1", "NSE:INFY", status, at=at))
    model.apply_order(_filled("c1", "t1", 10, "1500", "2.10", 2))
    model.apply_order(order("c1", "NSE:INFY", OrderStatus.OPEN, at=1))  # late redelivery
    model.apply_order(_filled("c1", "t1", 10, "1500", "2.10", 2))  # the same fill again
    steps = model.books.steps_of("c1")
    assert [s.status for s in steps] == [
        OrderStatus.SUBMITTED,
        OrderStatus.OPEN,
        OrderStatus.FILLED,
    ]
    assert [s.ts for s in steps] == [START_NS, START_NS + NS, START_NS + 2 * NS]
    assert [t.trade_id for t in model.books.trade_rows()] == ["t1"]


def test_a_fill_on_a_late_update_is_not_lost() -> None:
    """A partial fill that arrives after the order's end is still a trade the account made."""
    model = ReadModel()
    model.apply_order(_filled("c1", "t2", 6, "1500.05", "1.00", 3))
    late = msgspec.structs.replace(
        _filled("c1", "t1", 4, "1500.00", "0.70", 2),
        status=OrderStatus.PARTIALLY_FILLED,
    )
    before = model.sections[TRADES]
    model.apply_order(late)
    assert model.sections[TRADES] == before + 1
    assert {t.trade_id: t.quantity for t in model.books.fills_of("c1")} == {"t1": 4, "t2": 6}
    assert model.orders["c1"].status is OrderStatus.FILLED  # the order stays finished
    assert [t.trade_id for t in model.books.trade_rows()] == ["t2", "t1"]  # newest first


def test_a_risk_refusal_is_listed_once_with_its_reason() -> None:
    model = ReadModel()
    signal = Signal(
        signal_id="s1",
        strategy="whale",
        instrument_token=1,
        symbol="NSE:RELIANCE",
        side=Side.BUY,
        quantity=10_000,
        signal_ts=START_NS,
    )
    refusal = RejectedSignal(signal=signal, rule="max_order_quantity", reason="too big")
    model.apply_rejection(refusal)
    model.apply_rejection(refusal)
    assert model.sections[REJECTIONS] == 1
    (line,) = model.books.rejections.values()
    assert (line.strategy, line.quantity, line.reason, line.status) == (
        "whale",
        10_000,
        "too big",
        OrderStatus.REJECTED,
    )
    assert not model.orders  # never sent: not an order, and never pushes one out


class _Store:
    """The store's slice the read model seeds from: the day's orders and fills."""

    def __init__(self, fills: list[FillRecord]) -> None:
        self.fills = fills

    async def list_orders(self, broker, statuses=None, limit=500):  # type: ignore[no-untyped-def]
        return []

    async def list_positions(self, broker):  # type: ignore[no-untyped-def]
        return []

    async def latest_pnl_snapshot(self, broker):  # type: ignore[no-untyped-def]
        return None

    async def list_fills(self, broker):  # type: ignore[no-untyped-def]
        return self.fills


def _stored(trade_id: str, ts: int) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=trade_id,
        client_order_id=f"c-{trade_id}",
        strategy="momentum",
        instrument_token=1,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=10,
        price=Decimal("1500.00"),
        charges=Decimal("2.10"),
        fill_ts=ts,
    )


async def test_a_restart_shows_the_days_fills_once() -> None:
    model = ReadModel()
    fills = [_stored("yesterday", START_NS - DAY), _stored("t1", START_NS), _stored("t2", START_NS)]
    await seed_read_model(model, _Store(fills), Broker.PAPER)
    assert [t.trade_id for t in model.books.trade_rows()] == ["t1", "t2"]  # today's only
    model.apply_order(_filled("c-t1", "t1", 10, "1500.00", "2.10", 0))  # the bus replays it
    assert len(model.books.trades) == 2


_money = st.decimals(min_value=Decimal("0.05"), max_value=Decimal("99999.95"), places=2)


@given(
    st.lists(
        st.tuples(st.integers(1, 5_000), _money, st.decimals(0, 5_000, places=4)),
        min_size=1,
        max_size=20,
    ),
    st.randoms(use_true_random=False),
)
def test_every_fill_counts_once_whatever_is_redelivered(fills, rnd) -> None:  # type: ignore[no-untyped-def]
    updates = [
        _filled(f"c{i % 3}", f"t{i}", qty, str(price), str(charges), i)
        for i, (qty, price, charges) in enumerate(fills)
    ]
    delivered = updates + rnd.sample(updates, k=len(updates) // 2)  # redeliveries
    rnd.shuffle(delivered)
    model = ReadModel()
    for update in delivered:
        model.apply_order(update)
    book = model.books.trade_rows()
    assert sorted(t.trade_id for t in book) == sorted(f"t{i}" for i in range(len(fills)))
    assert sum(t.quantity for t in book) == sum(q for q, _, _ in fills)
    assert sum(t.charges for t in book) == sum(c for _, _, c in fills)  # exact, no float
    assert sum(t.price * t.quantity for t in book) == sum(p * q for q, p, _ in fills)


async def test_a_restart_shows_each_orders_whole_history_and_the_days_refusals() -> None:
    """The store's history is drawn before the order's last state (which adds no step
    again); a refusal stored before refusals kept their detail, or of an earlier day,
    is not shown."""
    store = MemoryTradingStore()
    await store.insert_order(stored_order("c1", created_ts=START_NS))
    for status, done, at in (
        (OrderStatus.OPEN, 0, 1),
        (OrderStatus.PARTIALLY_FILLED, 4, 2),
        (OrderStatus.FILLED, 10, 3),
    ):
        changes = {"status": status, "filled_quantity": done, "updated_ts": START_NS + at * NS}
        await store.update_order(stored_order("c1", created_ts=START_NS, **changes))
    for refusal in (
        _refusal("today", START_NS + 5 * NS),
        _refusal("yesterday", START_NS - DAY),
        msgspec.structs.replace(_refusal("old", START_NS + 6 * NS), signal_id=None, side=None),
    ):
        await store.add_alert(refusal)
    model = ReadModel()

    await seed_read_model(model, store, Broker.PAPER)

    steps = model.books.steps_of("c1")
    assert [(s.status, s.filled_quantity) for s in steps] == [
        (OrderStatus.PENDING, 0),
        (OrderStatus.OPEN, 0),
        (OrderStatus.PARTIALLY_FILLED, 4),
        (OrderStatus.FILLED, 10),
    ]
    assert [s.ts for s in steps] == [START_NS + n * NS for n in range(4)]
    (shown,) = model.books.rejections.values()
    assert (shown.signal_id, shown.side, shown.quantity) == ("today", Side.SELL, 9)
    assert (shown.rule, shown.reason) == ("max_order_quantity", "9 is too many")
    assert model.sections[REJECTIONS] == 1  # the orders book redraws with them


def _refusal(signal_id: str, ts: int) -> RiskAlertRecord:
    return RiskAlertRecord(
        alert_ts=ts,
        severity=Severity.WARNING,
        rule="max_order_quantity",
        message=f"Rejected SELL 9 NSE:INFY from momentum ({signal_id})",
        broker=Broker.PAPER,
        strategy="momentum",
        symbol="NSE:INFY",
        signal_id=signal_id,
        side=Side.SELL,
        quantity=9,
        reason="9 is too many",
    )
