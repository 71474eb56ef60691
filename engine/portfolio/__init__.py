"""Portfolio: positions, marks and P&L from the journaled fills (average-cost method)."""

from engine.portfolio.book import PortfolioBook
from engine.portfolio.ledger import COST_QUANTUM, PositionLedger, cash_flow
from engine.portfolio.service import PortfolioService, PortfolioStore

__all__ = [
    "COST_QUANTUM",
    "PortfolioBook",
    "PortfolioService",
    "PortfolioStore",
    "PositionLedger",
    "cash_flow",
]
