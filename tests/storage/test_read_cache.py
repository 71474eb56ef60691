"""The read-model cache: Redis and its in-memory twin behave the same for a console."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from engine.events.payloads import (
    ComponentHealth,
    Fill,
    HealthReport,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RiskAlert,
    TradingStateChanged,
)
from engine.events.types import (
    Broker,
    ComponentStatus,
    OrderStatus,
    OrderType,
    Product,
    Severity,
    Side,
    TradingMode,
)
from storage.read_cache import MemoryReadCache, ReadCache, RedisReadCache

MakeCache = Callable[..., ReadCache]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_cache(request: pytest.FixtureRequest) -> AsyncIterator[MakeCache]:
    """Builds caches for any broker; Redis ones share a random prefix, deleted afterwards."""
    if request.param == "memory":
        yield lambda broker=Broker.PAPER, **kw: MemoryReadCache(broker, **kw)
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = f"alphapanda_t_{secrets.token_hex(6)}"
    try:
        yield lambda broker=Broker.PAPER, **kw: RedisReadCache(client, broker, prefix=prefix, **kw)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def position(
    strategy: str = "ema", token: int = 738561, qty: int = 10, **kw: object
) -> PositionSnapshot:
    values: dict[str, object] = {
        "broker": Broker.PAPER,
        "strategy": strategy,
        "instrument_token": token,
        "symbol": "NSE:RELIANCE",
        "net_quantity": qty,
        "average_price": Decimal("2450.05"),
        "last_price": Decimal("2451.1"),
        "realized_pnl": Decimal("-12.3456"),
        "unrealized_pnl": Decimal("10.5"),
        "charges": Decimal("0.0001"),
    }
    values.update(kw)
    return PositionSnapshot(**values)  # type: ignore[arg-type]


def order(client_order_id: str, update_ts: int, **kw: object) -> OrderUpdate:
    values: dict[str, object] = {
        "client_order_id": client_order_id,
        "strategy": "ema",
        "broker": Broker.PAPER,
        "instrument_token": 738561,
        "symbol": "NSE:RELIANCE",
        "side": Side.BUY,
        "quantity": 10,
        "order_type": OrderType.LIMIT,
        "product": Product.MIS,
        "status": OrderStatus.OPEN,
        "price": Decimal("2450.05"),
        "update_ts": update_ts,
    }
    values.update(kw)
    return OrderUpdate(**values)  # type: ignore[arg-type]


async def test_positions_replace_by_strategy_and_instrument(make_cache: MakeCache) -> None:
    cache = make_cache()
    await cache.put_position(position("rsi", qty=5))
    await cache.put_position(position("ema", qty=10))
    await cache.put_position(position("ema", qty=0, realized_pnl=Decimal("99.9999")))

    assert await cache.positions() == [
        position("ema", qty=0, realized_pnl=Decimal("99.9999")),
        position("rsi", qty=5),
    ]


async def test_orders_newest_first_stale_updates_ignored_and_bounded(
    make_cache: MakeCache,
) -> None:
    cache = make_cache(max_orders=3)
    filled = order(
        "AP1",
        2_000,
        status=OrderStatus.FILLED,
        filled_quantity=10,
        average_price=Decimal("2450.0125"),
        fill=Fill(trade_id="T1", quantity=10, price=Decimal("2450.0125"), fill_ts=1_999),
    )
    assert await cache.put_order(filled)
    assert not await cache.put_order(order("AP1", 1_000))  # redelivered late: ignored
    for i in range(2, 5):
        await cache.put_order(order(f"AP{i}", 2_000 + i))

    assert [o.client_order_id for o in await cache.orders()] == ["AP4", "AP3", "AP2"]
    await cache.put_order(order("AP9", 9_000))
    assert [o.client_order_id for o in await cache.orders()] == ["AP9", "AP4", "AP3"]


async def test_latest_pnl_health_and_trading_states(make_cache: MakeCache) -> None:
    cache = make_cache()
    assert await cache.pnl() is None and await cache.health() is None
    pnl = PnlSnapshot(
        broker=Broker.PAPER,
        snapshot_ts=5,
        realized_pnl=Decimal("-1234.5678"),
        unrealized_pnl=Decimal("98765432.1234"),
        charges=Decimal("1"),
        cash=Decimal("1000000"),
        equity=Decimal("99999999999999.9999"),
        gross_exposure=Decimal("0"),
        positions=(position(),),
    )
    health = HealthReport(
        reporter="engine",
        components=(ComponentHealth(name="risk", status=ComponentStatus.PAUSED, dlq_count=2),),
        report_ts=7,
    )
    halted = TradingStateChanged(
        scope="global", mode=TradingMode.HALTED, previous=TradingMode.ACTIVE, reason="kill"
    )

    await cache.put_pnl(pnl)
    await cache.put_health(health)
    await cache.put_trading_state(halted)

    assert await cache.pnl() == pnl
    assert await cache.health() == health
    assert await cache.trading_states() == {"global": halted}


async def test_brokers_never_share_state_and_clear_is_per_broker(make_cache: MakeCache) -> None:
    paper, live = make_cache(Broker.PAPER), make_cache(Broker.ZERODHA)
    await paper.put_position(position())
    await live.put_order(order("Z1", 1))

    assert await live.positions() == []
    assert await paper.orders() == []
    await paper.clear()

    assert await paper.positions() == []
    assert [o.client_order_id for o in await live.orders()] == ["Z1"]


@pytest.mark.redis
async def test_redis_keys_carry_prefix_and_broker(redis_url: str) -> None:
    prefix = f"alphapanda_t_{secrets.token_hex(6)}"
    async with RedisReadCache.from_url(redis_url, Broker.ZERODHA, prefix=prefix) as cache:
        await cache.put_position(position(broker=Broker.ZERODHA))
        await cache.put_order(order("Z1", 1, broker=Broker.ZERODHA))
        await cache.put_pnl(
            PnlSnapshot(
                broker=Broker.ZERODHA,
                snapshot_ts=1,
                realized_pnl=Decimal(0),
                unrealized_pnl=Decimal(0),
                charges=Decimal(0),
                cash=Decimal(0),
                equity=Decimal(0),
                gross_exposure=Decimal(0),
            )
        )
        keys = {k.decode() async for k in cache.redis.scan_iter(match=f"{prefix}:*")}
        await cache.clear()
        remaining = [k async for k in cache.redis.scan_iter(match=f"{prefix}:*")]

    assert keys == {
        f"{prefix}:zerodha:positions",
        f"{prefix}:zerodha:orders",
        f"{prefix}:zerodha:orders:by_ts",
        f"{prefix}:zerodha:pnl",
    }
    assert remaining == []


def _critical(rule: str, ts: int) -> RiskAlert:
    return RiskAlert(
        severity=Severity.CRITICAL,
        rule=rule,
        message=f"{rule} fired",
        broker=Broker.PAPER,
        alert_ts=ts,
    )


async def test_critical_alerts_stay_pinned_until_acknowledged(make_cache: MakeCache) -> None:
    """Nanosecond times compare exactly (Lua's doubles would not); a line acknowledged up
    to a time keeps no alert of that time or older, and a newer one pins again."""
    cache = make_cache()
    ts = 1_797_400_000_000_000_001
    await cache.put_critical_alert(_critical("kill_switch", ts))
    await cache.put_critical_alert(_critical("kill_switch", ts - 1))  # older: not kept
    await cache.put_critical_alert(_critical("token_expired", ts))
    assert sorted((a.rule, a.alert_ts) for a in await cache.pinned_alerts()) == [
        ("kill_switch", ts),
        ("token_expired", ts),
    ]
    await cache.acknowledge_alerts([_critical("kill_switch", ts - 1)])  # not the newest
    assert len(await cache.pinned_alerts()) == 2
    await cache.acknowledge_alerts([_critical("kill_switch", ts)])
    assert [a.rule for a in await cache.pinned_alerts()] == ["token_expired"]
    await cache.put_critical_alert(_critical("kill_switch", ts))  # redelivered: stays read
    assert [a.rule for a in await cache.pinned_alerts()] == ["token_expired"]
    acknowledged = await cache.acknowledged_alerts()
    assert list(acknowledged.values()) == [ts]
    await cache.put_critical_alert(_critical("kill_switch", ts + 1))  # a new kill
    assert [a.rule for a in await cache.pinned_alerts()] == ["token_expired", "kill_switch"]
