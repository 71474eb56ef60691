"""The console re-marks the engine's positions to the paisa, whatever the average price.

The read model moves a position's unrealized P&L by what the mark moved since the
engine's snapshot. It used to re-mark from the average price, which the book rounds to
four places: a position bought at prices that do not average out (100 @ ₹100, 100 @
₹100, 100 @ ₹100.01) then showed ₹0.01 more than the engine, in the row, the TOTAL and
the header's Day P&L, while ``alphapanda status`` said otherwise.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.domain.records import FillRecord
from engine.events.payloads import Tick
from engine.events.types import Broker, Side
from engine.portfolio.book import PortfolioBook
from engine.read_model import ReadModel

TOKEN = 408065
DAY_START = datetime_to_ns(datetime(2025, 1, 15, 9, 15, tzinfo=IST))


def _fill(index: int, quantity: int, price: D) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=f"t{index}",
        client_order_id=f"o{index}",
        strategy="s",
        instrument_token=TOKEN,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=quantity,
        price=price,
        charges=D("0"),
        fill_ts=DAY_START + index * NS_PER_S,
    )


def _tick(price: D, second: int) -> Tick:
    return Tick(
        instrument_token=TOKEN,
        symbol="NSE:INFY",
        last_price=price,
        exchange_ts=DAY_START + second * NS_PER_S,
    )


def _engine_and_console(fills: list[tuple[int, D]], mark: D) -> tuple[PortfolioBook, ReadModel]:
    book = PortfolioBook(Broker.PAPER, D("1000000"))
    for index, (quantity, price) in enumerate(fills):
        book.apply_fill(_fill(index, quantity, price))
    book.mark(TOKEN, mark, None, DAY_START + 100 * NS_PER_S)
    model = ReadModel()
    model.apply_pnl(book.snapshot(DAY_START + 100 * NS_PER_S))
    return book, model


def test_a_mark_unchanged_since_the_snapshot_shows_the_engines_figure() -> None:
    book, model = _engine_and_console(
        [(100, D("100")), (100, D("100")), (100, D("100.01"))], mark=D("101")
    )
    engine = book.snapshot(DAY_START + 100 * NS_PER_S)
    assert engine.unrealized_pnl == D("299.00")  # 300 × 101 − 30,001.00
    model.apply_tick(_tick(D("101"), 101))  # the same price again
    (row,) = model.position_views(day=engine.trading_day)
    assert row.unrealized_pnl == D("299.00")  # was 299.01: (101 − 100.0033) × 300
    account = model.account(day=engine.trading_day)
    assert account.unrealized_pnl == engine.day_unrealized_pnl


@settings(max_examples=60, deadline=None)
@given(
    fills=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=5_000),
            st.decimals(min_value=D("1"), max_value=D("5000"), places=2),
        ),
        min_size=1,
        max_size=6,
    ),
    marks=st.lists(
        st.decimals(min_value=D("1"), max_value=D("5000"), places=2), min_size=2, max_size=5
    ),
)
def test_the_console_equals_the_engine_at_every_mark(
    fills: list[tuple[int, D]], marks: list[D]
) -> None:
    """Any buys, any later prices: the console's row and day figures equal what the
    engine's own book says at that price, to the paisa (exactly, in fact)."""
    book, model = _engine_and_console(fills, mark=marks[0])
    for second, price in enumerate(marks[1:], start=101):
        model.apply_tick(_tick(price, second))
        book.mark(TOKEN, price, None, DAY_START + second * NS_PER_S)
        engine = book.snapshot(DAY_START + second * NS_PER_S)
        (row,) = model.position_views(day=engine.trading_day)
        assert row.unrealized_pnl == engine.unrealized_pnl
        assert model.account(day=engine.trading_day).unrealized_pnl == engine.day_unrealized_pnl
