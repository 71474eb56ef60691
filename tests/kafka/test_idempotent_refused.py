"""A cluster that refuses idempotent producers is named as such, not as unreachable.

Seen in QA: ``alphapanda engine --bus kafka`` on the default settings against a local
Tansu broker (which has no idempotent producers) stopped with 'cannot reach the Kafka
cluster at 127.0.0.1:55571: [Error -1] UnknownError' while the broker was listening and
answering; nothing pointed at ALPHAPANDA_BUS__IDEMPOTENT_PRODUCER.
"""

from __future__ import annotations

import pytest

from engine.bus.kafka import KafkaBus
from engine.bus.kafka.security import BusUnavailableError

pytestmark = [pytest.mark.kafka]


async def test_a_refused_idempotent_producer_names_the_setting(kafka_bootstrap: str) -> None:
    bus = KafkaBus(kafka_bootstrap, idempotent=True, request_timeout_ms=5_000)
    with pytest.raises(BusUnavailableError) as raised:
        await bus.start()
    message = str(raised.value)
    assert "cannot reach" not in message, message
    assert kafka_bootstrap in message and "ALPHAPANDA_BUS__IDEMPOTENT_PRODUCER=false" in message
    await bus.aclose()
