"""The cluster commands fail fast and clearly: one line on stderr, exit status 2."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.engine_process import ALPHAPANDA
from tests.kafka.broker import free_port


def _run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPANDA_")}
    full.update(ALPHAPANDA_HOME=str(home), **env)
    return subprocess.run(
        [str(ALPHAPANDA), *args], env=full, capture_output=True, text=True, timeout=60
    )


def test_engine_on_an_unreachable_cluster_exits_2_with_one_line(isolated_home: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    result = _run(
        isolated_home, "engine", "--bus", "kafka", ALPHAPANDA_BUS__BOOTSTRAP_SERVERS=address
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"cannot reach the Kafka cluster at {address}" in lines[0]


def test_attach_without_the_sasl_password_exits_2_with_one_line(isolated_home: Path) -> None:
    result = _run(
        isolated_home,
        "--attach",
        ALPHAPANDA_BUS__SECURITY_PROTOCOL="SASL_SSL",
        ALPHAPANDA_BUS__SASL_MECHANISM="SCRAM-SHA-512",
        ALPHAPANDA_BUS__SASL_USERNAME="trader",
        ALPHAPANDA_BUS__BOOTSTRAP_SERVERS="kafka.example:9093",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "alphapanda: cannot attach to kafka.example:9093 over SASL_SSL: "
        "ALPHAPANDA_BUS__SASL_PASSWORD not set"
    ]


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ("feed,oracle", "--services: unknown service oracle"),
        ("strategies", "--services needs --bus kafka"),
    ],
)
def test_bad_services_exit_2(isolated_home: Path, services: str, message: str) -> None:
    args = ["engine", "--services", services]
    if "oracle" in services:
        args += ["--bus", "kafka"]
    result = _run(isolated_home, *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
