"""Repositories: one per engine port, each method one transaction (see ``engine.ports``)."""

from storage.repositories.alerts import AlertRepo, SnapshotRepo
from storage.repositories.audit import AuditRepo
from storage.repositories.fills import FillRepo
from storage.repositories.instruments import InstrumentRepo
from storage.repositories.orders import OrderRepo
from storage.repositories.positions import PositionRepo
from storage.repositories.processed import ProcessedEventRepo
from storage.repositories.protections import ProtectionRepo
from storage.repositories.state import StrategyRepo, TradingStateRepo

__all__ = [
    "AlertRepo",
    "AuditRepo",
    "FillRepo",
    "InstrumentRepo",
    "OrderRepo",
    "PositionRepo",
    "ProcessedEventRepo",
    "ProtectionRepo",
    "SnapshotRepo",
    "StrategyRepo",
    "TradingStateRepo",
]
