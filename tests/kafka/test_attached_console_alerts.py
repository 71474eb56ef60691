"""An attached console pins every unacknowledged CRITICAL alert the moment it starts, and an
acknowledgement made in one console reaches the others.

Seen in QA (``alphapanda --attach`` on ``alphapanda engine --bus kafka``): after a broker
restart a new console showed "No alerts" although the kill-switch alert had never been
acknowledged; the Redis seed skipped alerts, and acknowledging only unpinned the alert in
the console where the key was pressed.

Real services: the engine side's ``CacheWriter`` keeps the Redis read model from a Tansu
broker; consoles are real ``AttachedRuntime``s (one in a Pilot-driven app).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from alphapanda_tui.app import make_app
from alphapanda_tui.attach import AttachedRuntime
from engine.bus.kafka import KafkaBus
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import AlertsAcknowledged, RiskAlert
from engine.events.types import Broker, EventType, Severity
from engine.processing import Supervisor
from engine.read_model.cache_writer import CacheWriter
from storage.read_cache import RedisReadCache
from tests.helpers import eventually
from tests.kafka.broker import fast_bus
from tests.kafka.cluster import cluster_env, random_prefix, settings_for

pytestmark = [pytest.mark.kafka, pytest.mark.redis]

KILL_TS = 1_797_400_000_000_000_000
EXPIRY_TS = KILL_TS + 5_000_000_000


def _critical(rule: str, message: str, ts: int) -> RiskAlert:
    return RiskAlert(
        severity=Severity.CRITICAL, rule=rule, message=message, broker=Broker.PAPER, alert_ts=ts
    )


async def _publish(bus: KafkaBus, event_type: EventType, payload: object) -> None:
    event = new_event(event_type, payload, source="engine-1", key="paper", broker=Broker.PAPER)  # type: ignore[arg-type]  # a payload
    await bus.publish(topics.SYSTEM_ALERTS, event)
    await bus.flush()


@pytest.fixture
async def prefix(redis_url: str) -> AsyncIterator[str]:
    name = f"test-{secrets.token_hex(4)}"
    yield name
    redis = Redis.from_url(redis_url)
    keys = [key async for key in redis.scan_iter(match=f"{name}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def _console(home: Path, bootstrap: str, redis_url: str, prefix: str) -> AttachedRuntime:
    home.mkdir(parents=True, exist_ok=True)
    env = cluster_env(home, bootstrap, f"sqlite+aiosqlite:///{home}/db.sqlite", redis_url, prefix)
    return AttachedRuntime(settings_for(env), operator="trader@desk")


def _pinned(runtime: AttachedRuntime) -> list[str]:
    return [line.alert.rule for line in runtime.read_model.alert_book.pinned]


async def test_unacknowledged_critical_alerts_are_pinned_on_start_and_acks_reach_every_console(
    fresh_kafka: str, kafka_bootstrap: str, redis_url: str, prefix: str, tmp_path: Path
) -> None:
    engine = fast_bus(fresh_kafka, client_id=random_prefix())
    await engine.start()
    cache = RedisReadCache.from_url(redis_url, Broker.PAPER, prefix=prefix)
    writer = Supervisor([CacheWriter(bus=engine, cache=cache)])
    consoles: list[AttachedRuntime] = []
    try:
        await engine.ensure_topics([topics.SYSTEM_ALERTS])
        writer.start()
        kill = _critical("kill_switch", "Kill switch pressed by ops@desk", KILL_TS)
        expiry = _critical("token_expired", "Zerodha session expired", EXPIRY_TS)
        await _publish(engine, EventType.RISK_ALERT, kill)
        await _publish(engine, EventType.RISK_ALERT, expiry)
        # an operator read the expiry alert in a console that has gone since
        ack = AlertsAcknowledged(alerts=(expiry,), operator="ops@desk")
        await _publish(engine, EventType.ALERTS_ACKNOWLEDGED, ack)

        async def cached() -> bool:
            return [a.rule for a in await cache.pinned_alerts()] == ["kill_switch"]

        await eventually(cached, timeout=30, message="the cache never held the kill alert")

        # the broker restarted: a console on a broker that kept nothing still pins the kill
        restarted = _console(tmp_path / "restarted", kafka_bootstrap, redis_url, prefix)
        consoles.append(restarted)
        await restarted.start()
        assert _pinned(restarted) == ["kill_switch"]  # at start, before the bus is read
        history = restarted.read_model.alert_book.history()
        assert [line.alert.rule for line in history] == []  # the read one is not pinned

        # two consoles on the live broker: seeded and replayed, the kill is one line
        other = _console(tmp_path / "other", fresh_kafka, redis_url, prefix)
        consoles.append(other)
        await other.start()
        await other.wait_ready(30)
        acking = _console(tmp_path / "acking", fresh_kafka, redis_url, prefix)
        app = make_app(acking, operator="trader@desk")  # type: ignore[arg-type]  # as the CLI
        async with app.run_test(size=(120, 40)) as pilot:
            await eventually(lambda: acking.reader is not None, timeout=30, message="no reader")
            await acking.wait_ready(30)
            await eventually(  # the replayed expiry alert and its acknowledgement
                lambda: acking.read_model.alert_book.total >= 2, timeout=30, message="no replay"
            )
            assert _pinned(acking) == ["kill_switch"] and _pinned(other) == ["kill_switch"]
            assert acking.read_model.alert_book.pinned[0].count == 1  # seeded, not doubled

            await pilot.press("a")
            await pilot.pause()
            assert _pinned(acking) == []
            await eventually(lambda: _pinned(other) == [], timeout=10, message="not shared")

            async def unpinned_in_cache() -> bool:
                return await cache.pinned_alerts() == []

            await eventually(unpinned_in_cache, timeout=10, message="the cache keeps it")
        await acking.stop()

        # a console starting now replays the kill alert from the topic: it stays read
        later = _console(tmp_path / "later", fresh_kafka, redis_url, prefix)
        consoles.append(later)
        await later.start()
        await later.wait_ready(30)
        await eventually(
            lambda: later.read_model.alert_book.total >= 2, timeout=30, message="no replay"
        )
        assert _pinned(later) == []

        # a new kill after the acknowledgement is pinned again, everywhere
        again = _critical("kill_switch", "Kill switch pressed by ops@desk", KILL_TS + 60 * 10**9)
        await _publish(engine, EventType.RISK_ALERT, again)
        await eventually(lambda: _pinned(later) == ["kill_switch"], timeout=10, message="later")
        await eventually(lambda: _pinned(other) == ["kill_switch"], timeout=10, message="other")
    finally:
        for console in consoles:
            await console.stop()
        await writer.stop()
        await cache.aclose()
        await engine.aclose()
