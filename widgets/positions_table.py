"""Positions: one row per (strategy, instrument), marked to the last tick, with a totals row."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from engine.read_model.model import POSITIONS
from widgets.formatting import money, quantity, right, signed_money
from widgets.keyed_table import KeyedTable, Row
from widgets.panel import Frame

TOTAL_KEY = "__total__"
COLUMNS = [
    ("symbol", "Symbol", 12),
    ("strategy", "Strategy", 11),
    ("qty", "Qty", 5),
    ("avg", "Avg", 8),
    ("ltp", "LTP", 8),
    ("unrealized", "Unreal.", 9),
    ("realized", "Realized", 9),
    ("day", "Day", 7),
]


class PositionsTable(KeyedTable):
    """Open and closed-today positions, sorted by symbol; totals last."""

    SECTIONS = (POSITIONS,)  # ticks of instruments nobody holds do not redraw it

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, **kwargs)

    def show(self, frame: Frame) -> None:
        palette = frame.palette
        rows: list[tuple[str, Row]] = []
        unrealized = realized = Decimal("0")
        for view in frame.model.position_views():
            unrealized += view.unrealized_pnl
            realized += view.realized_pnl
            rows.append(
                (
                    view.key,
                    (
                        view.symbol,
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
            rows.append(
                (
                    TOTAL_KEY,
                    (
                        Text("TOTAL", style="bold"),
                        "",
                        "",
                        "",
                        "",
                        signed_money(unrealized, palette),
                        signed_money(realized, palette),
                        "",
                    ),
                )
            )
        self.sync(rows)
