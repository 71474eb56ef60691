"""``project`` copies the fields two record types share, so conversions cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import msgspec
import pytest

from engine.domain.projection import project
from engine.domain.records import PnlSnapshotRecord
from engine.events.payloads import PnlSnapshot
from engine.events.types import Broker


class _Source(msgspec.Struct, kw_only=True):
    name: str
    price: Decimal
    only_here: int = 7


class _Target(msgspec.Struct, kw_only=True):
    name: str
    price: Decimal
    extra: str = "default"


@dataclass
class _DataTarget:
    name: str
    extra: str = "default"


def test_shared_fields_are_copied_and_target_only_fields_keep_their_default() -> None:
    target = project(_Target, _Source(name="INFY", price=Decimal("1500.05")))

    assert target == _Target(name="INFY", price=Decimal("1500.05"), extra="default")


def test_overrides_replace_copied_values_and_fill_target_only_fields() -> None:
    source = _Source(name="INFY", price=Decimal("1"))
    target = project(_Target, source, price=Decimal("2"), extra="x")

    assert target == _Target(name="INFY", price=Decimal("2"), extra="x")


def test_an_override_the_target_does_not_declare_fails() -> None:
    with pytest.raises(TypeError):
        project(_Target, _Source(name="INFY", price=Decimal("1")), only_here=3)


def test_dataclass_targets_are_built_the_same_way() -> None:
    assert project(_DataTarget, _Source(name="TCS", price=Decimal("1"))) == _DataTarget(name="TCS")


def test_a_stored_snapshot_round_trips_through_the_bus_payload() -> None:
    record = PnlSnapshotRecord(
        broker=Broker.PAPER,
        snapshot_ts=5,
        realized_pnl=Decimal("10.25"),
        unrealized_pnl=Decimal("-3.10"),
        charges=Decimal("0.45"),
        cash=Decimal("100000"),
        equity=Decimal("100006.70"),
        gross_exposure=Decimal("2500"),
        trading_day="2026-12-07",
        day_realized_pnl=Decimal("1"),
        day_unrealized_pnl=Decimal("2"),
        day_charges=Decimal("0.05"),
    )

    assert project(PnlSnapshotRecord, project(PnlSnapshot, record)) == record
