"""Pre-trade risk: limits, the state they are checked against, the rules and the manager."""

from engine.risk.limits import RiskLimits
from engine.risk.manager import RiskManager, RiskStore
from engine.risk.rules import RULES, Rejection, RuleContext, evaluate, reduces_position
from engine.risk.state import RiskState

__all__ = [
    "RULES",
    "Rejection",
    "RiskLimits",
    "RiskManager",
    "RiskState",
    "RiskStore",
    "RuleContext",
    "evaluate",
    "reduces_position",
]
