"""Stops and targets through the whole paper pipeline (issue 16.3), on SQLite and on the
real PostgreSQL: a manual position protected over the control-command topic exits once,
through risk and execution, when the price crosses; the protection survives a restart
before it fires, goes away when the position closes by other means, and HALTED keeps the
exit from being sent while REDUCING lets it through."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.bus.memory import MemoryBus
from engine.clock import IST, NS_PER_S, datetime_to_ns
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import ControlCommand, Signal, Tick
from engine.events.types import (
    Broker,
    ControlAction,
    EventType,
    OrderStatus,
    OrderType,
    Product,
    Side,
)
from engine.instruments import load_default_registry
from engine.pipeline import Pipeline, PipelineConfig
from engine.processing.processor import ProcessorConfig
from engine.protection.commands import ProtectionLevels, send_protection
from engine.risk.limits import RiskLimits
from storage.store import SqlTradingStore, open_store
from tests.integration.support import postgres_database

REGISTRY = load_default_registry()
RELIANCE = REGISTRY.by_key("NSE:RELIANCE")
TOKEN = RELIANCE.instrument_token
MON_10AM = datetime_to_ns(datetime(2026, 1, 5, 10, 0, tzinfo=IST))
P = Broker.PAPER


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'protection.db'}"
        return
    admin_url = request.getfixturevalue("postgres_url")
    async with postgres_database(admin_url) as url:
        yield url


class Engine:
    """One pipeline process over a store; ``send`` publishes and waits for it to settle."""

    def __init__(self, store: SqlTradingStore) -> None:
        self.store = store
        self.bus = MemoryBus(partitions=2)
        self.pipeline = Pipeline(
            config=PipelineConfig(
                broker=P,
                risk=RiskLimits(max_open_orders=None, max_orders_per_second=None),
                snapshot_interval_s=3600.0,
                processing=ProcessorConfig(poll_timeout=0.01),
            ),
            bus=self.bus,
            store=store,
            registry=REGISTRY,
            strategies=[],
        )
        self.clock_ns = MON_10AM

    async def __aenter__(self) -> Engine:
        await self.bus.start()
        await self.pipeline.start()
        await self.pipeline.wait_ready()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.pipeline.stop()
        await self.bus.aclose()

    async def send(self, topic: str, event_type: EventType, payload: Any) -> None:
        await self.bus.publish(topic, new_event(event_type, payload, source="test", key=str(TOKEN)))
        assert await self.pipeline.drain(10.0), "pipeline did not drain"
        # the exit a tick causes is a second round: signal -> order -> fill -> position
        assert await self.pipeline.drain(10.0), "pipeline did not drain"

    async def tick(self, price: str) -> None:
        self.clock_ns += NS_PER_S
        tick = Tick(
            instrument_token=TOKEN,
            symbol="NSE:RELIANCE",
            last_price=Decimal(price),
            exchange_ts=self.clock_ns,
        )
        await self.send(topics.MARKET_TICKS, EventType.MARKET_TICK, tick)

    async def buy(self, quantity: int, signal_id: str = "manual-buy") -> None:
        """A manual market buy, filled on the next tick at its price."""
        self.clock_ns += NS_PER_S
        signal = Signal(
            signal_id=signal_id,
            strategy="manual",
            instrument_token=TOKEN,
            symbol="NSE:RELIANCE",
            side=Side.BUY,
            quantity=quantity,
            order_type=OrderType.MARKET,
            product=Product.CNC,
            signal_ts=self.clock_ns,
        )
        await self.send(topics.signals_raw(P), EventType.SIGNAL_RAW, signal)

    async def protect(self, **levels: Decimal) -> None:
        """As a console or the CLI asks: one command on the control topic."""
        await send_protection(
            self.bus,
            broker=P,
            strategy="manual",
            instrument_token=TOKEN,
            operator="test",
            levels=ProtectionLevels(**levels),
        )
        assert await self.pipeline.drain(10.0), "pipeline did not drain"

    async def control(self, action: ControlAction) -> None:
        command = ControlCommand(action=action, operator="test", reason="test")
        await self.send(topics.CONTROL_COMMANDS, EventType.CONTROL_COMMAND, command)


async def _sells(store: SqlTradingStore) -> list[Any]:
    return [o for o in await store.list_orders(P) if o.side is Side.SELL]


async def _net(store: SqlTradingStore) -> int:
    return sum(p.net_quantity for p in await store.list_positions(P) if p.instrument_token == TOKEN)


async def _open_long(engine: Engine, quantity: int = 10) -> None:
    await engine.tick("1400.00")
    await engine.buy(quantity)
    await engine.tick("1400.00")
    assert await _net(engine.store) == quantity


async def test_stop_set_before_a_restart_fires_exactly_once_after_it(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        async with Engine(store) as engine:
            await _open_long(engine)
            await engine.protect(stop_price=Decimal("1390.00"))
            await engine.tick("1395.00")  # above the stop: nothing
            assert await _sells(store) == []
        [kept] = await store.list_protections(P)
        assert (kept.stop_price, kept.fired) == (Decimal("1390.00"), "")

        async with Engine(store) as engine:  # a new process over the same database
            engine.clock_ns += 10 * NS_PER_S
            await engine.tick("1389.95")  # crosses: the exit goes out and fills
            for price in ("1389.00", "1389.00", "1385.00"):  # more crossings, one a repeat
                await engine.tick(price)

            [exit_order] = await _sells(store)
            assert (exit_order.strategy, exit_order.quantity) == ("manual", 10)
            assert exit_order.order_type is OrderType.MARKET
            assert exit_order.status is OrderStatus.FILLED
            assert exit_order.product is Product.CNC  # the product the position was bought on
            assert await _net(store) == 0
            assert await store.list_protections(P) == []  # the position closed: gone
            assert engine.pipeline.protection.protections == {}
    finally:
        await store.aclose()


async def test_target_fires_and_closes_the_position(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alphapanda.orders")
    store = await open_store(database_url)
    try:
        async with Engine(store) as engine:
            await _open_long(engine)
            await engine.protect(stop_pct=Decimal("2"), target_pct=Decimal("1"))
            await engine.tick("1413.95")  # 1 % above ~1400 is at least 1414.00
            assert await _sells(store) == []

            await engine.tick("1414.50")
            await engine.tick("1414.50")  # the market exit fills on the next tick

            [exit_order] = await _sells(store)
            assert exit_order.status is OrderStatus.FILLED
            assert await _net(store) == 0
            assert await store.list_protections(P) == []
            story = [r.getMessage() for r in caplog.records if r.name == "alphapanda.orders"]
            assert any(
                line.startswith("intent SIGNAL SELL 10 NSE:RELIANCE")
                and "[manual]" in line
                and line.endswith("target 1414.00 crossed at 1414.50")
                for line in story
            ), story
    finally:
        await store.aclose()


async def test_position_closed_by_other_means_drops_its_protection(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        async with Engine(store) as engine:
            await _open_long(engine)
            await engine.protect(stop_price=Decimal("1300.00"))
            assert len(await store.list_protections(P)) == 1

            engine.clock_ns += NS_PER_S
            sell = Signal(
                signal_id="manual-sell",
                strategy="manual",
                instrument_token=TOKEN,
                symbol="NSE:RELIANCE",
                side=Side.SELL,
                quantity=10,
                product=Product.CNC,
                signal_ts=engine.clock_ns,
            )
            await engine.send(topics.signals_raw(P), EventType.SIGNAL_RAW, sell)
            await engine.tick("1400.00")
            assert await _net(store) == 0
            assert await store.list_protections(P) == []

            await engine.tick("1250.00")  # below the old stop: nothing to exit
            assert len(await _sells(store)) == 1
    finally:
        await store.aclose()


async def test_halted_blocks_the_exit_and_reducing_lets_it_through(database_url: str) -> None:
    store = await open_store(database_url)
    try:
        async with Engine(store) as engine:
            await _open_long(engine)
            await engine.protect(stop_price=Decimal("1390.00"), target_price=Decimal("1450.00"))

            await engine.control(ControlAction.HALT)
            await engine.tick("1380.00")
            assert await _sells(store) == []  # nothing sent, not even refused
            [armed] = await store.list_protections(P)
            assert armed.fired == ""

            await engine.control(ControlAction.REDUCE)
            await engine.tick("1379.00")
            await engine.tick("1379.00")

            [exit_order] = await _sells(store)
            assert exit_order.status is OrderStatus.FILLED
            assert await _net(store) == 0
    finally:
        await store.aclose()
