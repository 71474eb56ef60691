"""Strategies: name, effective trading state, instruments and the day's P&L; arrows
select one. A strategy's P&L is its rows of the positions panel summed (today's realized
+ unrealized − today's charges), so the column adds up to the header's Day P&L."""

from __future__ import annotations

from engine.read_model.model import PNL, POSITIONS, STRATEGIES, TRADING
from widgets.formatting import signed_money, state_text
from widgets.keyed_table import Column, KeyedTable, Row
from widgets.panel import Frame

COLUMNS = [  # P&L and state are never cut: the instruments list gives way first
    Column("name", "Strategy", 8, min_width=6),
    Column("state", "State", 6),
    Column("instruments", "Instruments", 6, min_width=5),
    Column("pnl", "P&L", 8),
]


UNCONFIGURED = "~"  # key prefix of a row for positions of no configured strategy (manual)


class StrategiesPanel(KeyedTable):
    """The selected row is the strategy that ``h`` halts or resumes.

    Positions of a strategy the file does not configure (``manual``, the trader's own
    orders) get a row too, after the configured ones, so the column adds up to the day's
    P&L; ``h`` does not act on it (its orders follow the global state).
    """

    SECTIONS = (STRATEGIES, TRADING, POSITIONS, PNL)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, fit=True, **kwargs)

    @property
    def selected_strategy(self) -> str | None:
        key = self.cursor_key
        return None if key is None or key.startswith(UNCONFIGURED) else key

    def show(self, frame: Frame) -> None:
        model = frame.model
        rows: list[tuple[str, Row]] = []
        for name in sorted(model.strategies):
            info = model.strategies[name]
            instruments = ", ".join(s.split(":")[-1] for s in info.instruments)
            rows.append((name, self._row(frame, name, instruments)))
        held: dict[str, list[str]] = {}
        for view in frame.positions:
            if view.strategy not in model.strategies:
                held.setdefault(view.strategy, []).append(view.symbol.split(":")[-1])
        for name in sorted(held):
            rows.append((UNCONFIGURED + name, self._row(frame, name, ", ".join(held[name]))))
        self.sync(rows)

    @staticmethod
    def _row(frame: Frame, name: str, instruments: str) -> Row:
        model = frame.model
        return (
            name,
            state_text(model.effective_state(name), frame.palette),
            instruments,
            signed_money(model.strategy_pnl(name, frame.positions), frame.palette),
        )
