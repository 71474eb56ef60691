"""The book's account totals by hand, and its money properties for any sequence of fills."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.records import FillRecord
from engine.events.types import Broker, Side
from engine.portfolio.book import PortfolioBook

START = D("1000000")
TOKENS = (101, 202)


def fill(
    trade_id: str,
    side: Side,
    quantity: int,
    price: str | D,
    charges: str | D = "0",
    *,
    strategy: str = "ema",
    token: int = 101,
    ts: int = 0,
) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=trade_id,
        client_order_id=f"o-{trade_id}",
        strategy=strategy,
        instrument_token=token,
        symbol=f"NSE:T{token}",
        side=side,
        quantity=quantity,
        price=D(price),
        charges=D(charges),
        fill_ts=ts,
    )


def test_cash_equity_and_exposure_by_hand() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.apply_fill(fill("t1", Side.BUY, 10, "100", "1.50"))
    book.apply_fill(fill("t2", Side.SELL, 5, "200", "0.50", strategy="rsi", token=202))
    assert book.cash == START - 1000 + 1000 - D("2.00")
    assert book.equity == book.cash + 1000 - 1000  # unmarked positions count at cost
    book.mark(101, D("110"))
    book.mark(202, D("190"))
    assert book.unrealized_pnl == D("100") + D("50")
    assert book.equity == book.cash + 1100 - 950
    assert book.gross_exposure == D("1100") + D("950")
    assert book.equity - START == book.realized_pnl + book.unrealized_pnl - book.charges


def test_snapshot_carries_every_position_with_its_day_change() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    book.apply_fill(fill("t1", Side.BUY, 10, "100"))
    book.mark(101, D("104"), close=D("101"))
    snapshot = book.snapshot(ts=42)
    (position,) = snapshot.positions
    assert (snapshot.snapshot_ts, snapshot.unrealized_pnl, snapshot.equity) == (42, 40, START + 40)
    assert (position.net_quantity, position.last_price, position.day_change) == (10, 104, 3)


def test_a_fill_applied_twice_is_counted_once() -> None:
    book = PortfolioBook(Broker.PAPER, START)
    assert book.apply_fill(fill("t1", Side.BUY, 10, "100")) is not None
    assert book.apply_fill(fill("t1", Side.BUY, 10, "100")) is None
    assert book.position("ema", 101).net_quantity == 10
    assert book.cash == START - 1000


def test_a_fill_for_the_other_broker_or_a_float_cash_is_refused() -> None:
    book = PortfolioBook(Broker.ZERODHA, START)
    with pytest.raises(ValueError):
        book.apply_fill(fill("t1", Side.BUY, 1, "100"))
    assert book.positions() == []
    with pytest.raises(TypeError):
        PortfolioBook(Broker.PAPER, 1000.0)  # type: ignore[arg-type]


# -- properties -------------------------------------------------------------------

prices = st.integers(min_value=20, max_value=100_000).map(lambda k: D(k) * D("0.05"))
raw_fills = st.lists(
    st.tuples(
        st.sampled_from(("ema", "rsi")),
        st.sampled_from(TOKENS),
        st.sampled_from(Side),
        st.integers(min_value=1, max_value=1000),
        prices,
        st.integers(min_value=0, max_value=5_000).map(lambda paise: D(paise) / 100),
    ),
    max_size=40,
)
final_marks = st.fixed_dictionaries({t: st.none() | prices for t in TOKENS})


def as_fills(raw: list[tuple]) -> list[FillRecord]:
    return [
        fill(f"t{i}", side, qty, price, charges, strategy=strategy, token=token, ts=i)
        for i, (strategy, token, side, qty, price, charges) in enumerate(raw)
    ]


def book_of(fills: list[FillRecord], marks: dict[int, D | None]) -> PortfolioBook:
    book = PortfolioBook(Broker.PAPER, START)
    for item in fills:
        book.apply_fill(item)
    for token, price in marks.items():
        if price is not None:
            book.mark(token, price)
    return book


@settings(max_examples=150, deadline=None)
@given(raw_fills, final_marks)
def test_equity_change_is_realized_plus_unrealized_minus_charges(raw, marks) -> None:
    book = book_of(as_fills(raw), marks)
    assert book.equity - START == book.realized_pnl + book.unrealized_pnl - book.charges


@settings(max_examples=100, deadline=None)
@given(raw_fills)
def test_net_quantity_is_the_signed_sum_of_fills(raw) -> None:
    fills = as_fills(raw)
    book = book_of(fills, {})
    for position in book.positions():
        expected = sum(
            f.side.sign * f.quantity
            for f in fills
            if (f.strategy, f.instrument_token) == (position.strategy, position.instrument_token)
        )
        assert position.net_quantity == expected


@settings(max_examples=100, deadline=None)
@given(raw_fills, final_marks)
def test_closing_every_position_leaves_no_unrealized_and_no_average(raw, marks) -> None:
    fills = as_fills(raw)
    book = book_of(fills, marks)
    for i, position in enumerate(book.positions()):
        if position.net_quantity:
            side = Side.SELL if position.net_quantity > 0 else Side.BUY
            book.apply_fill(
                fill(f"close{i}", side, abs(position.net_quantity), "123.45", "1",
                     strategy=position.strategy, token=position.instrument_token)
            )  # fmt: skip
    assert all(p.net_quantity == 0 and p.average_price == 0 for p in book.positions())
    assert book.unrealized_pnl == 0 and book.gross_exposure == 0
    assert book.equity == book.cash == START + book.realized_pnl - book.charges


@settings(max_examples=100, deadline=None)
@given(raw_fills, final_marks)
def test_redelivered_fills_change_nothing(raw, marks) -> None:
    fills = as_fills(raw)
    once = book_of(fills, marks)
    twice = book_of([f for item in fills for f in (item, item)] + fills, marks)
    assert twice.snapshot(0) == once.snapshot(0)
    assert twice.cash == once.cash


@settings(max_examples=100, deadline=None)
@given(raw_fills, raw_fills, final_marks)
def test_rebuild_from_fills_equals_incremental_application(raw, earlier, marks) -> None:
    fills = as_fills(raw)
    incremental = book_of(fills, marks)
    rebuilt = book_of(as_fills(earlier), marks)  # stale state the rebuild must replace
    rebuilt.rebuild(fills)
    assert rebuilt.snapshot(0) == incremental.snapshot(0)
    assert rebuilt.positions() == incremental.positions()
    assert rebuilt.cash == incremental.cash


@settings(max_examples=150, deadline=None)
@given(raw_fills, final_marks, final_marks)
def test_one_pass_snapshot_equals_the_totals_and_views_one_by_one(raw, marks, closes) -> None:
    """The per-fill snapshot is computed in one pass; it must equal the properties (same
    Decimal, trailing zeros included) and each position's own view."""
    book = book_of(as_fills(raw), marks)
    for token, close in closes.items():
        if close is not None:
            book.mark(token, book.marks.get(token, close), close)
    snapshot = book.snapshot(7)
    totals = (book.realized_pnl, book.unrealized_pnl, book.charges, book.equity)
    assert (snapshot.realized_pnl, snapshot.unrealized_pnl, snapshot.charges, snapshot.equity) == (
        totals
    )
    assert [str(v) for v in totals] == [
        str(v)
        for v in (snapshot.realized_pnl, snapshot.unrealized_pnl, snapshot.charges, snapshot.equity)
    ]
    assert str(snapshot.gross_exposure) == str(book.gross_exposure)
    assert snapshot.cash == book.cash
    for view in snapshot.positions:
        assert view == book.position_snapshot(view.strategy, view.instrument_token)
        both = book.snapshot_with_position(7, view.strategy, view.instrument_token)
        assert both == (snapshot, view)
