"""The Kafka backend of the event bus (Redpanda or any Kafka-protocol broker).

``bus`` ties together the batching ``producer``, the group members and their committer
(``subscription``), the one-per-cluster services (``lease``) and the connection settings
every client shares (``security``).
"""

from engine.bus.kafka.bus import KafkaBus
from engine.bus.kafka.lease import LEASE_TOPIC, KafkaLease, LeasedService
from engine.bus.kafka.producer import OutputLostError
from engine.bus.kafka.security import BusUnavailableError, KafkaSecurity
from engine.bus.kafka.subscription import KafkaSubscription

__all__ = [
    "LEASE_TOPIC",
    "BusUnavailableError",
    "KafkaBus",
    "KafkaLease",
    "KafkaSecurity",
    "KafkaSubscription",
    "LeasedService",
    "OutputLostError",
]
