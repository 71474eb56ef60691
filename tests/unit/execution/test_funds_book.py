"""The paper funds' money math (``FundsBook``): paisa exact for any sequence of fills.

Properties: available = cash + realised − charges − used, always; realised P&L plus the
signed cost of what is still open equals the cash the trades moved (nothing is lost or
made up by the lot keeping); a flat book blocks nothing; every figure is whole paise;
and the book built from the journal in one go equals the one built fill by fill.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.records import FillRecord
from engine.events.types import Broker, Product, Side
from engine.execution.funds_book import FundsBook

PAISA = D("0.01")
KEYS = [("ema", 408065), ("ema", 738561), ("manual", 408065)]

fills = st.lists(
    st.tuples(
        st.sampled_from(KEYS),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 500),
        st.integers(1, 500_000).map(lambda paise: D(paise) / 100),  # ₹0.01 .. ₹5,000
        st.integers(0, 2_000).map(lambda paise: D(paise) / 100),  # charges
        st.sampled_from(list(Product)),
    ),
    max_size=40,
)


def _record(i: int, key: tuple[str, int], side: Side, qty: int, price: D, charges: D):
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=f"t{i}",
        client_order_id=f"o{i}",
        strategy=key[0],
        instrument_token=key[1],
        symbol="NSE:X",
        side=side,
        quantity=qty,
        price=price,
        charges=charges,
        fill_ts=i,
    )


def _paise(value: D) -> bool:
    return value == value.quantize(PAISA)


@settings(max_examples=300, deadline=None)
@given(fills, st.sampled_from([D(1), D(3), D(5), D("7.5")]))
def test_the_books_balance_to_the_paisa(trades, leverage: D) -> None:
    book = FundsBook(D("1000000"), leverage)
    cash_moved = D(0)
    charges = D(0)
    for i, (key, side, qty, price, fee, product) in enumerate(trades):
        book.apply(_record(i, key, side, qty, price, fee), product)
        cash_moved -= side.sign * qty * price
        charges += fee

    open_cost = sum((lot.quantity * lot.price for lots in book.lots.values() for lot in lots), D(0))
    assert book.realised - open_cost == cash_moved
    assert book.charges == charges
    assert book.available == book.starting_cash + book.realised - book.charges - book.used
    assert all(_paise(v) for v in (book.realised, book.used, book.available, book.total))
    full = sum((abs(lot.quantity) * lot.price for ls in book.lots.values() for lot in ls), D(0))
    assert full / leverage <= book.used <= full  # MIS blocks a share, CNC/NRML the value
    for key, lots in book.lots.items():
        assert lots, "a flat position keeps no lots"
        assert len({lot.quantity > 0 for lot in lots}) == 1  # one direction per position
        assert book.net(key) == sum(
            side.sign * qty for (k, side, qty, *_rest) in trades if k == key
        )


@settings(max_examples=200, deadline=None)
@given(fills)
def test_closing_every_position_releases_all_margin(trades) -> None:
    book = FundsBook(D("500000"), D(5))
    for i, (key, side, qty, price, fee, product) in enumerate(trades):
        book.apply(_record(i, key, side, qty, price, fee), product)
    closing = [
        (key, Side.SELL if book.net(key) > 0 else Side.BUY, abs(book.net(key)))
        for key in list(book.lots)
    ]
    for j, (key, side, qty) in enumerate(closing):
        book.apply(_record(10_000 + j, key, side, qty, D("100.00"), D(0)), Product.CNC)

    assert book.lots == {}
    assert book.used == 0
    assert book.available == book.total == book.starting_cash + book.realised - book.charges


def test_mis_margin_rounds_up_to_the_paisa_never_down() -> None:
    book = FundsBook(D("1000"), D(3))

    assert book.margin_of(D("100.00"), Product.MIS) == D("33.34")
    assert book.margin_of(D("-100.00"), Product.MIS) == D("33.34")  # a short blocks too
    assert book.margin_of(D("100.00"), Product.NRML) == D("100.00")


def test_fifo_realises_against_the_oldest_lot() -> None:
    book = FundsBook(D("100000"), D(5))
    book.apply(_record(1, KEYS[0], Side.BUY, 10, D("100.00"), D(0)), Product.CNC)
    book.apply(_record(2, KEYS[0], Side.BUY, 10, D("110.00"), D(0)), Product.MIS)

    book.apply(_record(3, KEYS[0], Side.SELL, 15, D("120.00"), D("1.50")), Product.CNC)

    assert book.realised == 10 * D(20) + 5 * D(10)
    assert book.used == D("110.00")  # 5 x 110 left, MIS at a fifth
    assert book.available == D("100000") + D(250) - D("1.50") - D("110.00")
