"""``SqlTradingStore`` offers every method of ``engine.ports.TradingStore`` with its signature.

Protocols are not checked at run time, so a port that grows a method (or renames a
parameter) would otherwise fail only when the engine first calls it.
"""

from __future__ import annotations

import inspect

import pytest

from engine.ports import TradingStore
from engine.processing.dedup import DedupStore
from storage.store import SqlTradingStore


def _methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(protocol, inspect.isfunction)
        if not name.startswith("_")
    )


@pytest.mark.parametrize("name", _methods(TradingStore) + _methods(DedupStore))
def test_store_implements_port_method(name: str) -> None:
    port_method = getattr(TradingStore, name, None) or getattr(DedupStore, name)
    implementation = getattr(SqlTradingStore, name)

    assert inspect.iscoroutinefunction(implementation)
    expected = list(inspect.signature(port_method).parameters)
    assert list(inspect.signature(implementation).parameters) == expected
