"""Positions of the trading day: one row per (strategy, instrument), marked to the last
tick, with a totals row.

The rows are the day's, as Zerodha's positions screen shows them: every open position and
those closed today (not one closed on an earlier day). Their money is the day's: Unreal.
is today's mark-to-market on the open quantity (a position carried in from an earlier day
counts from the previous close, one opened today from its fill prices), Realized what
today's fills booked, P&L their sum less today's charges. The TOTAL row is the sum of the
rows shown and its P&L is the header's Day P&L (``ReadModel.account``). A figure not yet
known for the day (before the day's first snapshot) reads '—'.

Columns fit their figures (money is never cut); on a narrow panel the symbol and strategy
names are cut first, then the average price goes (LTP and unrealized still say it all), then
the day change, then the stops (their prices are never cut: a cut stop reads as another).
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text

from engine.events.payloads import ProtectionState
from engine.read_model.model import PNL, POSITIONS
from engine.read_model.views import PositionView
from widgets.formatting import money, quantity, right, signed_money, symbol_text
from widgets.keyed_table import Column, KeyedTable, Row
from widgets.panel import Frame

TOTAL_KEY = "__total__"
COLUMNS = [
    Column("symbol", "Symbol", 8, min_width=8),
    Column("strategy", "Strategy", 8, min_width=5),
    Column("qty", "Qty", 3),
    Column("avg", "Avg", 8, drop=1),
    Column("ltp", "LTP", 8),
    Column("unrealized", "Unreal.", 8),
    Column("realized", "Realized", 8),
    Column("pnl", "P&L", 8),
    Column("day", "Chg", 6, drop=2),  # the price since the previous close; "Day" read as P&L
    Column("protection", "SL/TP", 5, drop=3),
]
PROTECTION = len(COLUMNS) - 1  # the column's index


def _compact(value: Decimal) -> str:
    """``1390``, ``1650.5``: the exact price with no separators or trailing zeros, so two
    levels fit beside the figures on an 80-column terminal."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def protection_text(state: ProtectionState | None, long: bool = True) -> str:
    """``SL 1390 TP 1650.5``: the stop that fires first (``TS`` when it is the trailing
    stop) and the target, at their trigger prices now; '' when unprotected."""
    if state is None:
        return ""
    stops = [(p, label) for p, label in ((state.stop, "SL"), (state.trail, "TS")) if p is not None]
    parts = []
    if stops:
        price, label = (max if long else min)(stops, key=lambda s: s[0])
        parts.append(f"{label} {_compact(price)}")
    if state.target is not None:
        parts.append(f"TP {_compact(state.target)}")
    return " ".join(parts)


def protection_detail(state: ProtectionState | None) -> str:
    """Every level in full (``SL 1,390.00 TS 1,497.40 TP 1,650.50``), for the dialog."""
    if state is None:
        return ""
    levels = (("SL", state.stop), ("TS", state.trail), ("TP", state.target))
    return " ".join(f"{label} {money(price)}" for label, price in levels if price is not None)


class PositionsTable(KeyedTable):
    """Open and closed-today positions with the day's money, sorted by symbol; totals last."""

    # Ticks of instruments nobody holds do not redraw it; P&L: the TOTAL redraws with the
    # P&L line, from the same frame.
    SECTIONS = (POSITIONS, PNL)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, fit=True, **kwargs)
        self._views: dict[str, PositionView] = {}

    def _natural(self) -> list[int]:
        """No column at all while no position is protected: an empty SL/TP header would
        cost the strategy names their last letters."""
        natural = super()._natural()
        if not any(lengths[PROTECTION] for lengths in self._lengths.values()):
            natural[PROTECTION] = 0
        return natural

    @property
    def selected_position(self) -> PositionView | None:
        """The position under the cursor as last drawn (None on the TOTAL row or empty)."""
        key = self.cursor_key
        return None if key is None else self._views.get(key)

    def show(self, frame: Frame) -> None:
        palette = frame.palette
        protections = frame.model.protections
        rows: list[tuple[str, Row]] = []
        self._views = {view.key: view for view in frame.positions}
        for view in frame.positions:
            protection = protections.get((view.strategy, view.instrument_token))
            rows.append(
                (
                    view.key,
                    (
                        symbol_text(view.symbol),
                        view.strategy,
                        quantity(view.net_quantity, palette),
                        right(money(view.average_price)),
                        right(money(view.last_price)),
                        signed_money(view.day_unrealized_pnl, palette),
                        signed_money(view.day_realized_pnl, palette),
                        signed_money(view.day_pnl, palette),
                        signed_money(view.day_change, palette),
                        protection_text(protection, long=view.net_quantity >= 0),
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
                        signed_money(account.day_pnl, palette),
                        "",
                        "",
                    ),
                )
            )
        self.sync(rows)
