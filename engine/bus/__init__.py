"""Event bus port and the in-memory backend (the Kafka backend lives in ``engine.bus.kafka``)."""

from engine.bus.base import EventBus, Record, Subscription
from engine.bus.memory import MemoryBus, partition_for

__all__ = ["EventBus", "MemoryBus", "Record", "Subscription", "partition_for"]
