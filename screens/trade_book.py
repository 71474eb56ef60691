"""The trade book: the day's fills with price, quantity, charges and their order."""

from __future__ import annotations

from decimal import Decimal

from screens.book_screen import BookScreen
from widgets.book_tables import TradeBookTable, day_trades
from widgets.formatting import money
from widgets.keyed_table import KeyedTable


class TradeBookScreen(BookScreen):
    """Every fill of the day, newest first, restored from the store after a restart."""

    TITLE_TEXT = "Trade book"
    EMPTY_TEXT = "No fills today."

    def make_table(self) -> KeyedTable:
        return TradeBookTable(id="book")

    def title_line(self) -> str:
        trades = day_trades(self.model, self.today)
        charges = sum((t.charges for t in trades), Decimal("0"))
        fills = "fill" if len(trades) == 1 else "fills"
        return f"Trade book · {len(trades)} {fills} · charges {money(charges)}"
