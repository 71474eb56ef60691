"""Where and how the Kafka clients connect: the cluster address, TLS and SASL, timeouts.

One frozen description shared by the producer, the subscriptions and the leases, so
every client of one bus talks to the cluster the same way; a cluster that cannot be
reached is reported once, in one wording, by ``unreachable``.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiokafka.helpers import create_ssl_context


class BusUnavailableError(RuntimeError):
    """The cluster cannot be reached; the message says where we tried."""


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """TLS and SASL options; passwords arrive as plain strings from SecretStr at the edge."""

    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None

    def client_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"security_protocol": self.security_protocol}
        if self.security_protocol in {"SSL", "SASL_SSL"}:
            context: ssl.SSLContext = create_ssl_context(cafile=self.ssl_cafile)
            kwargs["ssl_context"] = context
        if self.security_protocol.startswith("SASL"):
            if not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
                raise ValueError("SASL needs a mechanism, a username and a password")
            kwargs.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return kwargs


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """The settings every client of one bus shares (producer, consumers, admin, leases)."""

    bootstrap_servers: str
    client_id: str = "alphapanda"
    request_timeout_ms: int = 10_000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    def client_kwargs(self) -> dict[str, object]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "request_timeout_ms": self.request_timeout_ms,
            **self.security.client_kwargs(),
        }

    def member_kwargs(self) -> dict[str, object]:
        """``client_kwargs`` plus the group-membership timeouts (consumers and leases)."""
        return {
            "session_timeout_ms": self.session_timeout_ms,
            "heartbeat_interval_ms": self.heartbeat_interval_ms,
            **self.client_kwargs(),
        }

    @property
    def request_timeout(self) -> float:
        """``request_timeout_ms`` in seconds: the bound on a commit at a rebalance or close."""
        return self.request_timeout_ms / 1000

    def unreachable(self, exc: BaseException) -> BusUnavailableError:
        return BusUnavailableError(
            f"cannot reach the Kafka cluster at {self.bootstrap_servers}: {exc}"
        )


@contextlib.contextmanager
def quiet_bootstrap() -> Iterator[None]:
    """aiokafka logs each failed first connection; ``BusUnavailableError`` says it once."""
    aiokafka_log = logging.getLogger("aiokafka")
    level = aiokafka_log.level
    aiokafka_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        aiokafka_log.setLevel(level)
