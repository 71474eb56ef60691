"""The loopback Kite server, shared by the Zerodha tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kite_fake.server import FakeKite


@pytest.fixture
def fake_kite() -> Iterator[FakeKite]:
    with FakeKite() as fake:
        yield fake
