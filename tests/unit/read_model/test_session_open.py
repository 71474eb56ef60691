"""At a session's open the console shows the day's P&L of the positions carried in before
the engine's first snapshot of the new day, and the figure is the engine's.

Seen in QA: for the first SIM minutes of each session every day figure was '—' and the
header had no Day P&L (the figure the daily loss limit compares), while the carried
positions had their marks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.domain.records import FillRecord
from engine.events.payloads import OrderUpdate, Tick
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side
from engine.portfolio.book import PortfolioBook
from engine.read_model import ReadModel

TCS, ITC = 2953217, 424961
DAY_ONE = datetime_to_ns(datetime(2025, 1, 15, 9, 15, tzinfo=IST))
DAY_TWO = datetime_to_ns(datetime(2025, 1, 16, 9, 15, tzinfo=IST))


def _fill(trade: str, token: int, side: Side, quantity: int, price: str) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=trade,
        client_order_id=f"o-{trade}",
        strategy="manual",
        instrument_token=token,
        symbol="NSE:TCS" if token == TCS else "NSE:ITC",
        side=side,
        quantity=quantity,
        price=D(price),
        charges=D("3.10"),
        fill_ts=DAY_ONE + 60 * NS_PER_S,
    )


def _tick(token: int, last: str, close: str, ts: int) -> Tick:
    symbol = "NSE:TCS" if token == TCS else "NSE:ITC"
    return Tick(
        instrument_token=token, symbol=symbol, last_price=D(last), exchange_ts=ts, close=D(close)
    )


def _carried_overnight() -> tuple[PortfolioBook, ReadModel]:
    """Long 5 TCS and short 10 ITC (CNC) at the first day's last snapshot."""
    book = PortfolioBook(Broker.PAPER, D("1000000"))
    book.apply_fill(_fill("t1", TCS, Side.BUY, 5, "3400"))
    book.apply_fill(_fill("t2", ITC, Side.SELL, 10, "415.30"))
    evening = DAY_ONE + 6 * 3600 * NS_PER_S
    book.mark(TCS, D("3433.50"), D("3390"), evening)
    book.mark(ITC, D("417.55"), D("414"), evening)
    model = ReadModel()
    model.apply_pnl(book.snapshot(evening))
    for tick in (_tick(TCS, "3433.50", "3390", evening), _tick(ITC, "417.55", "414", evening)):
        model.apply_tick(tick)
    return book, model


def test_the_open_shows_the_days_pnl_of_the_positions_carried_in() -> None:
    book, model = _carried_overnight()
    opening = [
        _tick(TCS, "3443.40", "3433.50", DAY_TWO + NS_PER_S),
        _tick(ITC, "419.15", "417.55", DAY_TWO + 2 * NS_PER_S),
    ]
    for tick in opening:  # the new session's first ticks; no snapshot of it yet
        model.apply_tick(tick)
        book.mark(tick.instrument_token, tick.last_price, tick.close, tick.exchange_ts)
    day = model.trading_day(model.event_ns)
    engine = book.snapshot(DAY_TWO + 3 * NS_PER_S)  # what the engine will publish
    assert day == engine.trading_day == "2025-01-16"

    account = model.account(day=day)
    assert account.day_pnl == D("33.50")  # (3443.40 − 3433.50) × 5 − (419.15 − 417.55) × 10
    assert account.day_pnl == engine.day_pnl
    assert (account.realized_pnl, account.charges) == (D("0"), D("0"))
    rows = {v.instrument_token: v for v in model.position_views(day)}
    assert rows[TCS].day_pnl == D("49.50") and rows[ITC].day_pnl == D("-16.00")


def test_an_instrument_not_yet_ticked_today_has_not_moved_today() -> None:
    book, model = _carried_overnight()
    first = _tick(TCS, "3443.40", "3433.50", DAY_TWO + NS_PER_S)  # ITC has not ticked yet
    model.apply_tick(first)
    book.mark(TCS, first.last_price, first.close, first.exchange_ts)
    day = model.trading_day(model.event_ns)
    engine = book.snapshot(DAY_TWO + 2 * NS_PER_S)
    rows = {v.instrument_token: v for v in model.position_views(day)}
    assert rows[ITC].day_pnl == D("0")
    assert model.account(day=day).day_pnl == engine.day_pnl == D("49.50")


def _order(coid: str, status: OrderStatus, ts: int) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=coid,
        strategy="manual",
        broker=Broker.PAPER,
        instrument_token=TCS,
        symbol="NSE:TCS",
        side=Side.BUY,
        quantity=5,
        order_type=OrderType.LIMIT,
        product=Product.CNC,
        status=status,
        price=D("3400"),
        update_ts=ts,
    )


def test_the_orders_panel_shows_the_new_days_orders_and_the_working_ones() -> None:
    """A console left running into the next session showed the earlier days' finished
    orders, a restarted one only the day's: now both show the day's and every working one."""
    _, model = _carried_overnight()
    model.apply_order(_order("filled-yesterday", OrderStatus.FILLED, DAY_ONE + NS_PER_S))
    model.apply_order(_order("working-since-yesterday", OrderStatus.OPEN, DAY_ONE + 2 * NS_PER_S))
    model.apply_tick(_tick(TCS, "3443.40", "3433.50", DAY_TWO + NS_PER_S))
    model.apply_order(_order("filled-today", OrderStatus.FILLED, DAY_TWO + 2 * NS_PER_S))
    day = model.trading_day(model.event_ns)
    assert [o.client_order_id for o in model.order_rows(day)] == [
        "working-since-yesterday",
        "filled-today",
    ]
    assert len(model.order_rows()) == 3  # no day: every order kept
