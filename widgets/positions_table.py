"""Positions: one row per (strategy, instrument), marked to the last tick, with a totals row.

Columns fit their figures (money is never cut); on a narrow panel the symbol and strategy
names are cut first, then the average price goes (LTP and unrealized still say it all).
"""

from __future__ import annotations

from rich.text import Text

from engine.read_model.model import PNL, POSITIONS
from widgets.formatting import money, quantity, right, signed_money, symbol_text
from widgets.keyed_table import Column, KeyedTable, Row
from widgets.panel import Frame

TOTAL_KEY = "__total__"
COLUMNS = [
    Column("symbol", "Symbol", 8, min_width=6),
    Column("strategy", "Strategy", 8, min_width=5),
    Column("qty", "Qty", 3),
    Column("avg", "Avg", 8, drop=1),
    Column("ltp", "LTP", 8),
    Column("unrealized", "Unreal.", 8),
    Column("realized", "Realized", 8),
    Column("day", "Day", 6),
]


class PositionsTable(KeyedTable):
    """Open and closed-today positions, sorted by symbol; totals last."""

    # Ticks of instruments nobody holds do not redraw it; P&L: the TOTAL redraws with the
    # P&L line, from the same frame.
    SECTIONS = (POSITIONS, PNL)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, fit=True, **kwargs)

    def show(self, frame: Frame) -> None:
        palette = frame.palette
        rows: list[tuple[str, Row]] = []
        for view in frame.positions:
            rows.append(
                (
                    view.key,
                    (
                        symbol_text(view.symbol),
                        view.strategy,
                        quantity(view.net_quantity, palette),
                        right(money(view.average_price)),
                        right(money(view.last_price)),
                        signed_money(view.unrealized_pnl, palette),
                        signed_money(view.realized_pnl, palette),
                        signed_money(view.day_change, palette),
                    ),
                )
            )
        if rows:
            account = frame.account
            rows.append(
                (
                    TOTAL_KEY,
                    (
                        Text("TOTAL", style="bold"),
                        "",
                        "",
                        "",
                        "",
                        signed_money(account.unrealized_pnl, palette),
                        signed_money(account.realized_pnl, palette),
                        "",
                    ),
                )
            )
        self.sync(rows)
