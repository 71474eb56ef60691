"""The read-model cache: latest positions, orders, P&L, funds, health, trading states and the
unacknowledged CRITICAL alerts per broker.

Attached consoles and other readers (``alphapanda status``) read it instead of the
database. ``RedisReadCache`` shares it between processes; ``MemoryReadCache`` is the
embedded default with the same interface. Values are msgspec JSON (readable with
``redis-cli``), keys are ``{prefix}:{broker}:{section}`` so paper and zerodha never mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, Self, TypeVar, cast

import msgspec
from redis.asyncio import Redis

from engine.events.payloads import (
    FundsSnapshot,
    HealthReport,
    OrderUpdate,
    PnlSnapshot,
    PositionSnapshot,
    RiskAlert,
    TradingStateChanged,
)
from engine.events.types import Broker
from engine.read_model.alerts import AlertKey, alert_key, key_of_text, key_text
from engine.read_model.cache_writer import ReadModelCache
from storage.closing import AsyncClosing

T = TypeVar("T")

DEFAULT_PREFIX = "alphapanda"
DEFAULT_MAX_ORDERS = 500

# Store an order update unless a newer one is cached, then keep only the newest N orders;
# one script, so two writers can never interleave the check and the write.
_PUT_ORDER = """
local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  redis.call('HDEL', KEYS[1], unpack(oldest))
end
return 1
"""


# A CRITICAL alert stays pinned unless its line's acknowledged time is as new; the newest
# of a line is kept. Times are compared as zero-padded strings: Lua numbers are doubles
# and lose nanoseconds. KEYS: pinned, pinned times, acknowledged; ARGV: line, time, alert.
_PUT_CRITICAL = """
local acked = redis.call('HGET', KEYS[3], ARGV[1])
if acked and acked >= ARGV[2] then return 0 end
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current and current > ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

# Record each line's acknowledged time (the newest wins) and unpin what is no newer.
# ARGV: line, time, line, time, ...
_ACKNOWLEDGE = """
for i = 1, #ARGV, 2 do
  local line, ts = ARGV[i], ARGV[i + 1]
  local acked = redis.call('HGET', KEYS[3], line)
  if not acked or acked < ts then redis.call('HSET', KEYS[3], line, ts) end
  local pinned = redis.call('HGET', KEYS[2], line)
  if pinned and pinned <= ts then
    redis.call('HDEL', KEYS[1], line)
    redis.call('HDEL', KEYS[2], line)
  end
end
return 1
"""


def _ts_text(ts: int) -> str:
    return f"{max(ts, 0):020d}"


class ReadCache(ReadModelCache, Protocol):
    """The engine's writes (``ReadModelCache``) and what the console's read side needs;
    newest order first."""

    async def positions(self) -> list[PositionSnapshot]: ...
    async def orders(self) -> list[OrderUpdate]: ...
    async def pnl(self) -> PnlSnapshot | None: ...
    async def funds(self) -> FundsSnapshot | None: ...
    async def health(self) -> HealthReport | None: ...
    async def trading_states(self) -> dict[str, TradingStateChanged]: ...
    async def pinned_alerts(self) -> list[RiskAlert]: ...
    async def acknowledged_alerts(self) -> dict[AlertKey, int]: ...
    async def clear(self) -> None: ...
    async def aclose(self) -> None: ...


def position_field(position: PositionSnapshot) -> str:
    return f"{position.strategy}:{position.instrument_token}"


def _position_order(position: PositionSnapshot) -> tuple[str, int]:
    return (position.strategy, position.instrument_token)


class MemoryReadCache(AsyncClosing):
    """``ReadCache`` in process: the embedded default and the twin the tests compare with."""

    def __init__(self, broker: Broker, *, max_orders: int = DEFAULT_MAX_ORDERS) -> None:
        self.broker = broker
        self.max_orders = max_orders
        self._positions: dict[str, PositionSnapshot] = {}
        self._orders: dict[str, OrderUpdate] = {}
        self._pnl: PnlSnapshot | None = None
        self._funds: FundsSnapshot | None = None
        self._health: HealthReport | None = None
        self._states: dict[str, TradingStateChanged] = {}
        self._pinned: dict[AlertKey, RiskAlert] = {}
        self._acknowledged: dict[AlertKey, int] = {}

    async def put_position(self, position: PositionSnapshot) -> None:
        self._positions[position_field(position)] = position

    async def positions(self) -> list[PositionSnapshot]:
        return sorted(self._positions.values(), key=_position_order)

    async def put_order(self, order: OrderUpdate) -> bool:
        current = self._orders.get(order.client_order_id)
        if current is not None and current.update_ts > order.update_ts:
            return False
        self._orders[order.client_order_id] = order
        if len(self._orders) > self.max_orders:
            oldest = sorted(self._orders.values(), key=lambda o: o.update_ts)
            for stale in oldest[: len(self._orders) - self.max_orders]:
                del self._orders[stale.client_order_id]
        return True

    async def orders(self) -> list[OrderUpdate]:
        return sorted(self._orders.values(), key=lambda o: o.update_ts, reverse=True)

    async def put_pnl(self, pnl: PnlSnapshot) -> None:
        self._pnl = pnl

    async def pnl(self) -> PnlSnapshot | None:
        return self._pnl

    async def put_funds(self, funds: FundsSnapshot) -> None:
        if _newer(funds, self._funds):
            self._funds = funds

    async def funds(self) -> FundsSnapshot | None:
        return self._funds

    async def put_health(self, report: HealthReport) -> None:
        self._health = report

    async def health(self) -> HealthReport | None:
        return self._health

    async def put_trading_state(self, state: TradingStateChanged) -> None:
        self._states[state.scope] = state

    async def trading_states(self) -> dict[str, TradingStateChanged]:
        return dict(self._states)

    async def put_critical_alert(self, alert: RiskAlert) -> None:
        key = alert_key(alert)
        current = self._pinned.get(key)
        if alert.alert_ts <= self._acknowledged.get(key, -1):
            return
        if current is None or current.alert_ts <= alert.alert_ts:
            self._pinned[key] = alert

    async def acknowledge_alerts(self, alerts: Sequence[RiskAlert]) -> None:
        for alert in alerts:
            key = alert_key(alert)
            self._acknowledged[key] = max(self._acknowledged.get(key, -1), alert.alert_ts)
            current = self._pinned.get(key)
            if current is not None and current.alert_ts <= alert.alert_ts:
                del self._pinned[key]

    async def pinned_alerts(self) -> list[RiskAlert]:
        return sorted(self._pinned.values(), key=lambda a: a.alert_ts)

    async def acknowledged_alerts(self) -> dict[AlertKey, int]:
        return dict(self._acknowledged)

    async def clear(self) -> None:
        self._pinned.clear()
        self._acknowledged.clear()
        self._positions.clear()
        self._orders.clear()
        self._pnl = self._health = self._funds = None
        self._states.clear()


class RedisReadCache(AsyncClosing):
    """``ReadCache`` in Redis, shared by every process that reads the same broker."""

    def __init__(
        self,
        redis: Redis,
        broker: Broker,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_orders: int = DEFAULT_MAX_ORDERS,
        owns_client: bool = False,
    ) -> None:
        self.broker = broker
        self.max_orders = max_orders
        self.redis = redis
        self.base = f"{prefix}:{broker.value}"
        self._owns_client = owns_client
        self._put_order_script = redis.register_script(_PUT_ORDER)
        self._put_critical_script = redis.register_script(_PUT_CRITICAL)
        self._acknowledge_script = redis.register_script(_ACKNOWLEDGE)

    @classmethod
    def from_url(cls, url: str, broker: Broker, **kw: Any) -> Self:
        """A cache with its own client (closed by ``aclose``)."""
        return cls(Redis.from_url(url), broker, owns_client=True, **kw)

    def key(self, section: str) -> str:
        return f"{self.base}:{section}"

    async def put_position(self, position: PositionSnapshot) -> None:
        await self.redis.hset(self.key("positions"), position_field(position), _encode(position))

    async def positions(self) -> list[PositionSnapshot]:
        raw = await self.redis.hvals(self.key("positions"))
        return sorted((_decode(v, PositionSnapshot) for v in raw), key=_position_order)

    async def put_order(self, order: OrderUpdate) -> bool:
        keys = [self.key("orders"), self.key("orders:by_ts")]
        args: list[str | int | bytes] = [
            order.client_order_id,
            order.update_ts,
            _encode(order),
            self.max_orders,
        ]
        return bool(await self._put_order_script(keys=keys, args=args))

    async def orders(self) -> list[OrderUpdate]:
        # Without scores a range is member names only; the stubs type every variant.
        ids = cast("list[bytes | str]", await self.redis.zrevrange(self.key("orders:by_ts"), 0, -1))
        if not ids:
            return []
        raw = await self.redis.hmget(self.key("orders"), ids)
        return [_decode(v, OrderUpdate) for v in raw if v is not None]

    async def put_pnl(self, pnl: PnlSnapshot) -> None:
        await self.redis.set(self.key("pnl"), _encode(pnl))

    async def pnl(self) -> PnlSnapshot | None:
        return _decode_optional(await self.redis.get(self.key("pnl")), PnlSnapshot)

    async def put_health(self, report: HealthReport) -> None:
        await self.redis.set(self.key("health"), _encode(report))

    async def put_funds(self, funds: FundsSnapshot) -> None:
        """Unless newer figures are cached. Read, then written: one cache writer owns the
        key (its partition), so nothing writes between the two."""
        if _newer(funds, await self.funds()):
            await self.redis.set(self.key("funds"), _encode(funds))

    async def funds(self) -> FundsSnapshot | None:
        return _decode_optional(await self.redis.get(self.key("funds")), FundsSnapshot)

    async def health(self) -> HealthReport | None:
        return _decode_optional(await self.redis.get(self.key("health")), HealthReport)

    async def put_trading_state(self, state: TradingStateChanged) -> None:
        await self.redis.hset(self.key("trading"), state.scope, _encode(state))

    async def trading_states(self) -> dict[str, TradingStateChanged]:
        raw = await self.redis.hgetall(self.key("trading"))
        return {_text(scope): _decode(v, TradingStateChanged) for scope, v in raw.items()}

    def _alert_keys(self) -> list[str]:
        return [self.key("alerts:pinned"), self.key("alerts:pinned_ts"), self.key("alerts:acked")]

    async def put_critical_alert(self, alert: RiskAlert) -> None:
        args: list[str | int | bytes] = [
            key_text(alert_key(alert)),
            _ts_text(alert.alert_ts),
            _encode(alert),
        ]
        await self._put_critical_script(keys=self._alert_keys(), args=args)

    async def acknowledge_alerts(self, alerts: Sequence[RiskAlert]) -> None:
        args: list[str | int | bytes] = []
        for alert in alerts:
            args += [key_text(alert_key(alert)), _ts_text(alert.alert_ts)]
        if args:
            await self._acknowledge_script(keys=self._alert_keys(), args=args)

    async def pinned_alerts(self) -> list[RiskAlert]:
        raw = await self.redis.hvals(self.key("alerts:pinned"))
        return sorted((_decode(v, RiskAlert) for v in raw), key=lambda a: a.alert_ts)

    async def acknowledged_alerts(self) -> dict[AlertKey, int]:
        raw = await self.redis.hgetall(self.key("alerts:acked"))
        return {key_of_text(_text(line)): int(_text(ts)) for line, ts in raw.items()}

    async def clear(self) -> None:
        """Delete every key of this broker under the prefix (SCAN, never KEYS)."""
        keys = [key async for key in self.redis.scan_iter(match=f"{self.base}:*", count=500)]
        if keys:
            await self.redis.delete(*keys)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.redis.aclose()


def _newer(funds: FundsSnapshot, cached: FundsSnapshot | None) -> bool:
    """A late copy (a redelivery, an older read) never replaces newer figures."""
    return cached is None or funds.as_of_ns >= cached.as_of_ns


def _encode(value: msgspec.Struct) -> bytes:
    return msgspec.json.encode(value)


def _decode(raw: bytes | str, kind: type[T]) -> T:
    return msgspec.json.decode(raw, type=kind)


def _decode_optional(raw: bytes | str | None, kind: type[T]) -> T | None:
    return None if raw is None else _decode(raw, kind)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
