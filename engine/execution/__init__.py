"""Order execution: the outbox-first execution service, the broker-adapter seam, paper venue."""

from engine.execution.broker import BrokerAdapter, PaperAdapter, PlaceAck, VenueUpdate
from engine.execution.charges import ChargeBreakdown, ChargeRates, ChargesModel
from engine.execution.fill_model import FillModel
from engine.execution.paper_broker import PaperBroker
from engine.execution.service import ExecutionConfig, ExecutionService

__all__ = [
    "BrokerAdapter",
    "ChargeBreakdown",
    "ChargeRates",
    "ChargesModel",
    "ExecutionConfig",
    "ExecutionService",
    "FillModel",
    "PaperAdapter",
    "PaperBroker",
    "PlaceAck",
    "VenueUpdate",
]
