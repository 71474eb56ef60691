"""Suite-wide fixtures: an isolated home directory, settings env cleaned, real services."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.services import POSTGRES_URL, REDIS_URL, require_service


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ALPHAPANDA_HOME and no stray ALPHAPANDA_* settings."""
    for key in list(os.environ):
        if key.startswith("ALPHAPANDA_") and not key.startswith("ALPHAPANDA_TEST_"):
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "alphapanda-home"
    home.mkdir()
    monkeypatch.setenv("ALPHAPANDA_HOME", str(home))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return home


@pytest.fixture
def postgres_url() -> str:
    require_service("postgres", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture
def redis_url() -> str:
    require_service("redis", "127.0.0.1", 6379)
    return REDIS_URL
