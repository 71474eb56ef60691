"""Which failures mean "the Kafka cluster cannot be reached right now".

The supervisor waits such a failure out instead of counting it as a crash (see
``engine.processing.outage``). A service's failure arrives wrapped: ``OutputLostError``
(an output not acknowledged) from the batch's error, ``BusUnavailableError`` ("cannot
reach the cluster") from the client's, a leased service's "stopped while holding its
lease" from its own; so the whole chain of causes is read. Only errors of the
connection itself count: a refused or oversized message, a bad password or a database
that cannot be reached is a crash, as before.
"""

from __future__ import annotations

from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    KafkaConnectionError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    NodeNotReadyError,
    NotCoordinatorError,
    NotLeaderForPartitionError,
    RequestTimedOutError,
)

from engine.bus.kafka.security import BusUnavailableError

# What aiokafka raises (or fails a batch with) while the brokers are gone or coming back.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    KafkaConnectionError,
    NodeNotReadyError,
    RequestTimedOutError,
    KafkaTimeoutError,
    CoordinatorNotAvailableError,
    CoordinatorLoadInProgressError,
    NotCoordinatorError,
    LeaderNotAvailableError,
    NotLeaderForPartitionError,
)
_MAX_LINKS = 16  # causes followed at most (a chain is a few links; this only bounds a cycle)


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` or one of its causes is a failure to reach the cluster."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen and len(seen) < _MAX_LINKS:
        seen.add(id(link))
        if isinstance(link, _CONNECTION_ERRORS):
            return True
        if isinstance(link, BusUnavailableError) and isinstance(link.__cause__, OSError):
            return True  # a client's first connection refused by the operating system
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return False
