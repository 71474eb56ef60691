"""The positions panel, the P&L line and the strategies panel show the trading day's money,
the day the header's Day P&L (and the daily loss limit) counts.

Seen after a restart on a new simulated day: the positions panel still listed a row closed
the day before with its realized P&L, and the TOTAL, the P&L line and the strategies' P&L
counted from the first fill ever, while the header's Day P&L counted today. Here the
engine's own ``PortfolioBook`` makes the snapshots, and a restart is a new console seeded
from what the store holds, as ``ReadModelProcessor.on_start`` does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from engine.domain.records import FillRecord, OrderRecord, PnlSnapshotRecord, PositionRecord
from engine.events import topics
from engine.events.types import Broker, EventType, OrderStatus, Side
from engine.market.calendar import NseCalendar
from engine.portfolio.book import PortfolioBook
from engine.read_model import StrategyInfo
from engine.read_model.run_clock import RunClock
from engine.read_model.seed import seed_read_model
from tests.tui.conftest import Console
from tests.tui.harness import NS, START_NS, BusHarness, tick
from tests.tui.test_no_color import screen_text
from tests.tui.test_screen_truth import _console
from widgets.strategies_panel import StrategiesPanel

DAY = 24 * 3600 * NS
TCS, ITC, INFY = 2953217, 424961, 408065
SYMBOLS = {TCS: "NSE:TCS", ITC: "NSE:ITC", INFY: "NSE:INFY"}


def fill(
    n: int, strategy: str, token: int, side: Side, qty: int, price: str, at: int
) -> FillRecord:
    return FillRecord(
        broker=Broker.PAPER,
        trade_id=f"t{n}",
        client_order_id=f"o{n}",
        strategy=strategy,
        instrument_token=token,
        symbol=SYMBOLS[token],
        side=side,
        quantity=qty,
        price=Decimal(price),
        charges=Decimal("5.00"),
        fill_ts=at,
    )


# 14 Jan: rsi trades TCS flat (+500 realized); swing buys ITC and holds it overnight.
YESTERDAY = [
    fill(1, "rsi", TCS, Side.BUY, 10, "3500", START_NS - DAY - 3600 * NS),
    fill(2, "rsi", TCS, Side.SELL, 10, "3550", START_NS - DAY - 1800 * NS),
    fill(3, "swing", ITC, Side.BUY, 20, "400", START_NS - DAY - 1200 * NS),
]
# 15 Jan (the harness's day): momentum buys INFY.
TODAY = [fill(4, "momentum", INFY, Side.BUY, 10, "1500", START_NS - 600 * NS)]


class Store:
    """What the store holds after a run: the journal, the positions and the last snapshot."""

    def __init__(self, book: PortfolioBook, fills: list[FillRecord], ts: int) -> None:
        self.fills = fills
        self.positions = book.positions()
        self.snapshot = PortfolioBook.snapshot_record(book.snapshot(ts))

    async def list_orders(
        self, broker: Broker, statuses: list[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]:
        return []

    async def list_positions(self, broker: Broker) -> list[PositionRecord]:
        return self.positions

    async def latest_pnl_snapshot(self, broker: Broker) -> PnlSnapshotRecord | None:
        return self.snapshot

    async def list_fills(self, broker: Broker) -> list[FillRecord]:
        return self.fills


def engine_book(fills: list[FillRecord]) -> PortfolioBook:
    """The portfolio as a (re)started engine has it: rebuilt from the journal."""
    book = PortfolioBook(Broker.PAPER, Decimal("1000000"), NseCalendar())
    book.rebuild(fills)
    return book


def yesterdays_close(book: PortfolioBook) -> None:
    at = START_NS - DAY - 600 * NS
    book.mark(TCS, Decimal("3550"), None, at)
    book.mark(ITC, Decimal("405"), None, at)


TODAYS_TICKS = [(ITC, "410", "405"), (INFY, "1510", "1498"), (TCS, "3600", "3550")]


async def todays_ticks(console: Console, book: PortfolioBook) -> None:
    """The feed's ticks of today, to the console and the engine's book alike."""
    for token, price, close in TODAYS_TICKS:
        t = tick(token, SYMBOLS[token], price, close=close)
        book.mark(token, t.last_price, t.close, t.exchange_ts)
        await console.harness.publish(topics.MARKET_TICKS, EventType.MARKET_TICK, t)


async def publish_snapshot(console: Console, book: PortfolioBook) -> None:
    await console.harness.publish(
        topics.pnl_snapshots(Broker.PAPER), EventType.PNL_SNAPSHOT, book.snapshot(START_NS)
    )
    await console.settle()


@asynccontextmanager
async def restarted(store: Store | None, size: tuple[int, int]) -> AsyncIterator[Console]:
    clock = RunClock(label="SIM", calendar=NseCalendar(), stale_after_s=3600.0)
    async with _console(BusHarness(run_clock=clock), size) as console:
        names = ("momentum", "rsi", "swing")
        console.harness.read_model.set_strategies([StrategyInfo(name) for name in names])
        if store is not None:
            await seed_read_model(console.harness.read_model, store, Broker.PAPER)
        await console.settle()
        yield console


def boxes(console: Console, title: str) -> list[list[str]]:
    """The words of each line inside the box titled ``title``, as drawn on the screen."""
    lines = screen_text(console.app).splitlines()
    top = next(i for i, line in enumerate(lines) if f"─ {title}" in line)
    column = lines[top].index(f"─ {title}") - 1  # the box's left corner
    words = []
    for line in lines[top + 1 :]:
        inside = line[column + 1 :].split("│")[0]
        if line[column] != "│":
            break
        words.append(inside.split())
    return words


def rows(console: Console) -> dict[str, list[str]]:
    """The positions panel's money by row (symbol or TOTAL): Unreal., Realized, P&L."""
    headings, *lines = boxes(console, "Positions")[1:]  # after the funds line
    first = headings.index("Unreal.")
    drawn = {}
    for words in lines:
        if words and words[0] == "TOTAL":
            drawn["TOTAL"] = words[1:4]
        elif words:
            drawn[words[0]] = words[first : first + 3]
    return drawn


def strategy_pnl(console: Console) -> dict[str, str]:
    return {words[0]: words[-1] for words in boxes(console, "Strategies")[1:] if words}


def day_pnl(console: Console) -> str:
    found = re.search(r"Day P&L (\S+)", console.header())
    assert found, console.header()
    return found.group(1)


def pnl_line(console: Console) -> str:
    return str(console.app.dashboard.query_one("#pnl-figures").render())


async def test_a_restart_on_a_new_day_shows_the_days_positions_and_money() -> None:
    before = engine_book(YESTERDAY)
    yesterdays_close(before)
    store = Store(before, YESTERDAY, START_NS - DAY - 600 * NS)  # stopped after the close
    async with restarted(store, (120, 40)) as console:
        book = engine_book(YESTERDAY)  # the engine restarts on the same journal
        await todays_ticks(console, book)
        await publish_snapshot(console, book)  # the day has begun: nothing traded yet
        shown = rows(console)
        assert "TCS" not in shown  # closed yesterday: not today's position
        # swing's ITC, carried in: today's move from yesterday's close 405 to 410, on 20
        assert shown["ITC"] == ["+100.00", "+0.00", "+100.00"]  # Unreal., Realized, P&L
        assert shown["TOTAL"] == ["+100.00", "+0.00", "+100.00"]
        assert day_pnl(console) == "+100.00"
        assert strategy_pnl(console)["rsi"] == "+0.00"  # its +500 was yesterday's
        assert "Realized +0.00  Unrealized +100.00  Charges 0.00" in pnl_line(console)

        for new_fill in TODAY:  # momentum buys 10 INFY at 1,500 (charges 5), marked at 1,510
            book.apply_fill(new_fill)
        await publish_snapshot(console, book)
        shown = rows(console)
        assert set(shown) == {"INFY", "ITC", "TOTAL"}
        assert shown["INFY"] == ["+100.00", "+0.00", "+95.00"]
        assert shown["TOTAL"] == ["+200.00", "+0.00", "+195.00"]  # the rows summed
        assert day_pnl(console) == "+195.00"  # the header's figure is the TOTAL's
        assert strategy_pnl(console) == {"momentum": "+95.00", "rsi": "+0.00", "swing": "+100.00"}
        assert book.snapshot(START_NS).day_pnl == Decimal("195.00")  # what the limit compares


async def test_the_same_day_after_a_restart_shows_the_same_figures() -> None:
    journal = [*YESTERDAY, *TODAY]
    async with restarted(None, (120, 40)) as console:
        book = engine_book(YESTERDAY)
        yesterdays_close(book)
        await todays_ticks(console, book)
        book.apply_fill(TODAY[0])
        await publish_snapshot(console, book)
        first = rows(console), day_pnl(console), strategy_pnl(console), pnl_line(console)
        store = Store(book, journal, START_NS)
    assert first[0]["TOTAL"] == ["+200.00", "+0.00", "+195.00"]

    async with restarted(store, (120, 40)) as console:
        seeded = rows(console)  # from the store alone, before any event
        assert set(seeded) == {"INFY", "ITC", "TOTAL"}  # not yesterday's TCS
        assert seeded["INFY"] == ["+100.00", "+0.00", "+95.00"]
        book = engine_book(journal)
        await todays_ticks(console, book)
        await publish_snapshot(console, book)
        again = rows(console), day_pnl(console), strategy_pnl(console), pnl_line(console)
    assert again == first


async def test_at_80_columns_the_total_and_the_header_still_agree() -> None:
    async with restarted(None, (80, 24)) as console:
        book = engine_book(YESTERDAY)
        yesterdays_close(book)
        await todays_ticks(console, book)
        book.apply_fill(TODAY[0])
        await publish_snapshot(console, book)
        screen = screen_text(console.app)
        total = next(line for line in screen.splitlines() if "TOTAL" in line)
        assert total.split()[2:5] == ["+200.00", "+0.00", "+195.00"], total
        assert "Real +0.00  Unreal +200.00  Chrg 5.00" in screen  # 0 + 200 - 5 = 195
        assert "Day P&L +195.00" in console.header()
        assert "TCS" not in screen


async def test_the_strategies_p_and_l_add_up_to_the_day_with_manual_positions() -> None:
    """The trader's own orders (strategy ``manual``, not in the strategies file) have a
    row of their own: without it the column fell short of the Day P&L by their P&L."""
    manual = fill(5, "manual", TCS, Side.BUY, 2, "3590", START_NS - 300 * NS)
    async with restarted(None, (120, 40)) as console:
        book = engine_book(YESTERDAY)
        yesterdays_close(book)
        await todays_ticks(console, book)
        book.apply_fill(TODAY[0])
        book.apply_fill(manual)  # 2 TCS at 3,590, marked at 3,600, charges 5
        await publish_snapshot(console, book)
        pnl = strategy_pnl(console)
        assert pnl["manual"] == "+15.00"
        assert day_pnl(console) == "+210.00"  # 195 + 15
        assert sum(Decimal(v.replace(",", "")) for v in pnl.values()) == Decimal("210.00")
        strategies = console.app.dashboard.query_one("#strategies", StrategiesPanel)
        strategies.focus()
        await console.pilot.press("down", "down", "down", "down")
        await console.pilot.pause()
        assert strategies.cursor_key == "~manual"
        assert strategies.selected_strategy is None  # h does not halt "manual"
