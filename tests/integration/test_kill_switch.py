"""The kill switch on a real runtime (SQLite, memory bus) and through the CLI.

In process: nothing leaves after the kill, not even signals already on the bus; resting
orders are cancelled with a reason; ``flatten`` squares off; a restart stays HALTED until
an operator resumes. Through the CLI: ``alphapanda kill`` / ``resume`` steer a running
``alphapanda engine`` within about a second, and a kill while stopped holds at the next start.
"""

from __future__ import annotations

import json
import signal as signals
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from alphapanda_tui.runtime import EngineRuntime, build_runtime
from alphapanda_tui.settings import load_settings
from engine.domain.records import OrderRecord
from engine.events import topics
from engine.events.types import EventType, OrderStatus, OrderType, Side, TradingMode
from tests.helpers import eventually
from tests.integration.support import (
    BROKER,
    INFY,
    SESSION_START_NS,
    EngineProcess,
    Ledger,
    PlaceRecorder,
    SqliteDb,
    cli,
    make_signal,
    poll,
    settings_overrides,
    signal_event,
    tick,
    tick_event,
)

SECOND = 1_000_000_000
StartRuntime = Callable[[], Awaitable[EngineRuntime]]


@pytest.fixture
async def start_runtime(isolated_home: Path) -> AsyncIterator[StartRuntime]:
    """Start runtimes on one SQLite home with no feed: the test publishes every tick itself."""
    settings = load_settings(**settings_overrides(isolated_home))
    started: list[EngineRuntime] = []

    async def start() -> EngineRuntime:
        runtime = build_runtime(settings, feed_factory=lambda _bus, _registry: None)
        await runtime.start()
        started.append(runtime)
        assert runtime.pipeline is not None
        await runtime.pipeline.wait_ready()
        return runtime

    yield start
    for runtime in started:
        if runtime.pipeline is not None and runtime.pipeline._started:
            await runtime.stop()


class Desk:
    """What a test does to a running runtime: publish market data and signals, read the DB."""

    def __init__(self, runtime: EngineRuntime) -> None:
        assert runtime.pipeline is not None
        self.runtime = runtime
        self.pipeline = runtime.pipeline
        self.bus = runtime.pipeline.bus
        self.store: Any = runtime.pipeline.store
        self.venue = PlaceRecorder(self.pipeline.execution.adapter)
        self.pipeline.execution.adapter = self.venue
        self.ts = SESSION_START_NS

    async def tick(self, instrument: tuple[int, str], price: str) -> None:
        self.ts += SECOND
        await self.bus.publish(topics.MARKET_TICKS, tick_event(tick(instrument, price, self.ts)))

    async def send(self, event_type: EventType, side: Side, quantity: int, **kw: Any) -> str:
        """Publish a signal (raw or validated) for INFY; returns its client order id's seed."""
        s = make_signal(INFY, side, quantity, self.ts, reference_price="1580.00", **kw)
        topic = (
            topics.signals_validated(BROKER)
            if event_type is EventType.SIGNAL_VALIDATED
            else topics.signals_raw(BROKER)
        )
        await self.bus.publish(topic, signal_event(s, event_type))
        return s.signal_id

    async def order_for(self, signal_id: str) -> OrderRecord | None:
        orders = await self.store.list_orders(BROKER, limit=10_000)
        return next((o for o in orders if o.signal_id == signal_id), None)

    async def wait_status(self, signal_id: str, *statuses: OrderStatus) -> OrderRecord:
        async def reached() -> bool:
            order = await self.order_for(signal_id)
            return order is not None and order.status in statuses

        await eventually(reached, timeout=5, message=f"order of {signal_id} in {statuses}")
        order = await self.order_for(signal_id)
        assert order is not None
        return order

    async def fill(self, signal_id: str, price: str) -> OrderRecord:
        """Once the order is working at the venue, the next tick fills it (market order)."""
        await self.wait_status(signal_id, OrderStatus.OPEN, OrderStatus.FILLED)
        await self.tick(INFY, price)
        return await self.wait_status(signal_id, OrderStatus.FILLED)

    async def net(self, instrument: tuple[int, str]) -> int:
        positions = await self.store.list_positions(BROKER)
        return sum(p.net_quantity for p in positions if p.instrument_token == instrument[0])

    async def settle(self) -> None:
        assert await self.pipeline.drain(5)


async def test_nothing_leaves_after_kill_even_signals_already_in_flight(
    start_runtime: StartRuntime,
) -> None:
    desk = Desk(await start_runtime())
    await desk.tick(INFY, "1580.00")
    resting = await desk.send(
        EventType.SIGNAL_VALIDATED, Side.BUY, 10, order_type=OrderType.LIMIT, limit_price="1550.00"
    )
    await desk.wait_status(resting, OrderStatus.OPEN)
    assert len(desk.venue.placed) == 1

    # On the bus but not yet handled when the key is pressed (publishing does not yield).
    before = [await desk.send(EventType.SIGNAL_VALIDATED, Side.BUY, 5) for _ in range(4)]
    raw_before = [await desk.send(EventType.SIGNAL_RAW, Side.BUY, 5) for _ in range(3)]
    await desk.runtime.controls.kill(operator="alice@desk")
    after = [await desk.send(EventType.SIGNAL_VALIDATED, Side.BUY, 5) for _ in range(3)]
    raw_after = [await desk.send(EventType.SIGNAL_RAW, Side.BUY, 5) for _ in range(3)]
    await desk.tick(INFY, "1581.00")
    await desk.settle()

    assert desk.venue.placed[1:] == []
    for signal_id in before + after:
        order = await desk.wait_status(signal_id, OrderStatus.REJECTED)
        assert "HALTED" in order.reason
    cancelled = await desk.wait_status(resting, OrderStatus.CANCELLED)
    assert cancelled.reason == "kill switch"  # built once: not "kill switch: kill switch"
    assert cancelled.filled_quantity == 0
    for signal_id in raw_before + raw_after:
        assert await desk.order_for(signal_id) is None  # risk refused: no order at all
    alerts = await desk.store.list_alerts(limit=100)
    halted_rejections = [a for a in alerts if a.rule == "trading_state" and "HALTED" in a.message]
    assert len(halted_rejections) == len(raw_before + raw_after)
    assert desk.runtime.global_mode is TradingMode.HALTED
    assert any(
        "Kill switch pressed by alice@desk" in a.message for a in desk.runtime.read_model.alerts
    )
    audit = await desk.store.list_audit(limit=20)
    assert [(a.actor, a.action) for a in audit if a.action == "trading.kill"] == [
        ("alice@desk", "trading.kill")
    ]
    assert await desk.net(INFY) == 0
    # Seven orders refused in a row by the halt are not broker rejections: no automatic
    # halt overwrites who pulled the kill switch and why.
    record = desk.pipeline.trading_state.record("global")
    assert record is not None and record.operator == "alice@desk"
    assert [a for a in alerts if a.rule == "consecutive_rejections"] == []


async def test_kill_with_flatten_squares_off_every_position(start_runtime: StartRuntime) -> None:
    desk = Desk(await start_runtime())
    await desk.tick(INFY, "1580.00")
    long_infy = await desk.send(EventType.SIGNAL_VALIDATED, Side.BUY, 10)
    await desk.fill(long_infy, "1580.50")
    await eventually(lambda: _net_is(desk, INFY, 10), message="long 10 INFY")

    await desk.runtime.controls.kill(flatten=True, operator="alice@desk")
    await desk.settle()
    await desk.tick(INFY, "1579.00")  # the square-off is a market order: the next tick fills it
    await eventually(lambda: _net_is(desk, INFY, 0), message="INFY squared off")

    ledger = await Ledger.load(desk.store)
    assert ledger.problems() == []
    square_offs = [o for o in ledger.orders if o.signal_id.startswith("square-off:")]
    assert [(o.side, o.quantity, o.status) for o in square_offs] == [
        (Side.SELL, 10, OrderStatus.FILLED)
    ]
    assert desk.runtime.global_mode is TradingMode.HALTED


async def test_restart_after_kill_stays_halted_until_resumed(start_runtime: StartRuntime) -> None:
    first = Desk(await start_runtime())
    await first.runtime.controls.kill(operator="alice@desk")
    await first.settle()
    await first.runtime.stop()

    desk = Desk(await start_runtime())
    assert desk.runtime.global_mode is TradingMode.HALTED
    await desk.tick(INFY, "1580.00")
    refused = await desk.send(EventType.SIGNAL_VALIDATED, Side.BUY, 5)
    assert "HALTED" in (await desk.wait_status(refused, OrderStatus.REJECTED)).reason
    assert desk.venue.placed == []

    await desk.runtime.controls.resume(operator="bob@desk")
    await eventually(lambda: desk.runtime.global_mode is TradingMode.ACTIVE)
    accepted = await desk.send(EventType.SIGNAL_VALIDATED, Side.BUY, 5)
    await desk.fill(accepted, "1580.50")
    assert [i.signal_id for i in desk.venue.placed] == [accepted]


async def _net_is(desk: Desk, instrument: tuple[int, str], quantity: int) -> bool:
    return await desk.net(instrument) == quantity


# -- the CLI against a real engine process ---------------------------------------------------


def _status(home: Path) -> dict[str, Any]:
    result = cli(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _engine_applied(db: SqliteDb, action: str) -> bool:
    return db.count("audit_log", "action = ?", f"trading.{action}") > 0


@pytest.mark.slow
async def test_cli_kill_and_resume_steer_a_running_engine(isolated_home: Path) -> None:
    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(lambda: db.count("fills") >= 3, 15, "the engine trading")

        killed = cli(isolated_home, "kill")
        assert killed.returncode == 0, killed.stderr
        assert "trading is now HALTED" in killed.stdout
        assert f"-{engine.process.pid} stopped sending" in killed.stdout
        await poll(lambda: _engine_applied(db, "kill"), 2.5, "the engine applying the kill")
        last_order_at_kill = db.scalar("SELECT max(id) FROM orders") or 0
        status = _status(isolated_home)
        assert status["trading_state"]["mode"] == "HALTED"
        assert status["engine"]["running"] is True
        # Strategies keep signalling; risk refuses them and nothing new is sent.
        await poll(
            lambda: db.count("risk_alerts", "rule = 'trading_state'") >= 2,
            10,
            "signals refused while halted",
        )
        sent_after_kill = db.count(
            "orders", "id > ? AND status NOT IN ('REJECTED', 'CANCELLED')", last_order_at_kill
        )
        assert sent_after_kill == 0
        await poll(
            lambda: db.count("orders", "status IN ('OPEN', 'PENDING', 'SUBMITTED')") == 0,
            5,
            "every working order cancelled or filled",
        )
        assert db.count("orders", "reason LIKE 'kill switch%'") == db.count(
            "orders", "status = 'CANCELLED'"
        )
        # The kill switch's own refusals are not "broker rejections": no automatic halt
        # replaces the operator's kill in what the trader sees.
        assert status["trading_state"]["reason"] == "kill switch (cli)"
        assert _status(isolated_home)["trading_state"]["reason"] == "kill switch (cli)"
        assert db.count("audit_log", "action = 'trading.halt'") == 0

        resumed = cli(isolated_home, "resume")
        assert resumed.returncode == 0, resumed.stderr
        assert "trading is now ACTIVE" in resumed.stdout
        await poll(lambda: _engine_applied(db, "resume"), 2.5, "the engine applying the resume")
        await poll(
            lambda: db.count("orders", "id > ? AND status = 'FILLED'", last_order_at_kill) > 0,
            10,
            "trading again after resume",
        )
        assert _status(isolated_home)["trading_state"]["mode"] == "ACTIVE"
        engine.send(signals.SIGTERM)
        assert engine.wait() == 0, engine.output[-3000:]
    finally:
        engine.close()


@pytest.mark.slow
async def test_cli_kill_while_stopped_holds_at_next_start(isolated_home: Path) -> None:
    killed = cli(isolated_home, "kill", "--wait", "0.5")
    assert killed.returncode == 3, killed.stderr
    assert "no running engine acknowledged within 0.5 s" in killed.stdout
    assert "starts HALTED" in killed.stdout

    db = SqliteDb(isolated_home / "alphapanda.db")
    engine = EngineProcess.start(isolated_home)
    try:
        await engine.started()
        await poll(
            lambda: db.count("risk_alerts", "rule = 'trading_state'") >= 3,
            15,
            "signals refused at start",
        )
        status = _status(isolated_home)
        assert status["trading_state"]["mode"] == "HALTED"
        assert status["engine"]["running"] is True
        assert db.count("orders", "status != 'REJECTED'") == 0
        engine.send(signals.SIGTERM)
        assert engine.wait() == 0, engine.output[-3000:]
    finally:
        engine.close()
