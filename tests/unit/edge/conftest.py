"""Edge fixtures: a logging runtime under the test's home, torn down after each test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.logs import LogRuntime, setup_logging
from engine.logs.redaction import SECRETS


@pytest.fixture
def logs(isolated_home: Path) -> Iterator[LogRuntime]:
    runtime = setup_logging(isolated_home, level="DEBUG", ring_capacity=100)
    yield runtime
    runtime.close()
    SECRETS.clear()


def read_lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
