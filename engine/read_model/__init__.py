"""The console's read model: what the engine looks like right now, fed from the bus."""

from engine.read_model.model import GLOBAL_SCOPE, SECTIONS, ReadModel
from engine.read_model.processor import ReadModelProcessor, read_model_topics
from engine.read_model.views import PositionView, SessionInfo, StrategyInfo

__all__ = [
    "GLOBAL_SCOPE",
    "SECTIONS",
    "PositionView",
    "ReadModel",
    "ReadModelProcessor",
    "SessionInfo",
    "StrategyInfo",
    "read_model_topics",
]
