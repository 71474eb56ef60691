"""A book restored from the journal and the latest stored snapshot's market values every
position as the book that stored it did: same clock, day, marks and previous closes."""

from __future__ import annotations

from decimal import Decimal as D

from engine.events.types import Broker, Side
from engine.portfolio.book import PortfolioBook
from engine.portfolio.marks import read_marks, stored_marks
from tests.unit.portfolio.test_book import START, fill
from tests.unit.portfolio.test_day_pnl import at


def _figures(book: PortfolioBook) -> tuple[object, ...]:
    snap = book.snapshot(0)
    return (
        snap.event_ts,
        snap.trading_day,
        snap.unrealized_pnl,
        snap.equity,
        snap.day_unrealized_pnl,
        snap.day_pnl,
        [(p.last_price, p.day_change, p.day_unrealized_pnl) for p in snap.positions],
    )


def test_a_restored_book_has_the_figures_of_the_book_that_stored_the_snapshot() -> None:
    fills = [
        fill("t1", Side.BUY, 10, "100", "1", ts=at(0)),
        fill("t2", Side.SELL, 4, "90", ts=at(1)),
    ]
    live = PortfolioBook(Broker.PAPER, START)
    live.apply_fill(fills[0])
    live.mark(101, D("80"), ts=at(0, 30))
    live.mark(101, D("85"), close=D("81"), ts=at(1))  # Tuesday, carried from Monday
    live.apply_fill(fills[1])
    live.mark(101, D("87.5"), close=D("81"), ts=at(1, 90))
    stored = live.snapshot_record(live.snapshot(0), stored_marks(live.marks, live.closes))

    restored = PortfolioBook(Broker.PAPER, START)
    restored.restore(fills, stored.event_ts, *read_marks(stored.marks))
    rebuilt = PortfolioBook(Broker.PAPER, START)  # as before: the journal alone
    rebuilt.rebuild(fills)

    assert _figures(restored) == _figures(live)
    assert stored.marks == {"101": ["87.5", "81"]}
    assert rebuilt.snapshot(0).trading_day == "2024-06-04"
    assert rebuilt.snapshot(0).equity != live.snapshot(0).equity  # valued at cost


def test_closes_of_an_earlier_day_than_the_books_are_not_taken_as_todays() -> None:
    fills = [fill("t1", Side.BUY, 10, "100", ts=at(0)), fill("t2", Side.BUY, 1, "95", ts=at(2))]
    book = PortfolioBook(Broker.PAPER, START)

    book.restore(fills, at(1, 60), {101: D("90")}, {101: D("99")})  # Tuesday's snapshot

    assert book.snapshot(0).trading_day == "2024-06-05"  # a later fill opened Wednesday
    assert book.closes == {} and book.marks == {101: D("90")}


def test_marks_that_do_not_read_back_are_left_out() -> None:
    stored: dict[str, list[str | None]] = {
        "101": ["87.5", None],
        "x": ["1", "1"],
        "102": ["-3", "1"],
        "103": [],
    }
    assert read_marks(stored) == ({101: D("87.5")}, {})
