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


class StrategiesPanel(KeyedTable):
    """The selected row is the strategy that ``h`` halts or resumes."""

    SECTIONS = (STRATEGIES, TRADING, POSITIONS, PNL)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(COLUMNS, fit=True, **kwargs)

    @property
    def selected_strategy(self) -> str | None:
        return self.cursor_key

    def show(self, frame: Frame) -> None:
        model = frame.model
        rows: list[tuple[str, Row]] = []
        for name in sorted(model.strategies):
            info = model.strategies[name]
            instruments = ", ".join(s.split(":")[-1] for s in info.instruments)
            rows.append(
                (
                    name,
                    (
                        name,
                        state_text(model.effective_state(name), frame.palette),
                        instruments,
                        signed_money(model.strategy_pnl(name, frame.positions), frame.palette),
                    ),
                )
            )
        self.sync(rows)
