"""The protection service: watches each protected position's price and exits it once.

It consumes ticks, the positions the portfolio publishes, order events (for the product a
position was bought on) and protection commands on ``control.commands``. When a tick
crosses a stop-loss, target or trailing stop, it marks the protection fired in the store
*first*, then emits one market exit signal on ``{broker}.signals.raw``, the path strategy
signals take: pre-trade risk judges it (an exit passes while REDUCING) and execution's
outbox and kill-switch check apply. While the position's trading is HALTED nothing is
sent and the protection stays armed. A position that closes (net 0) or flips loses its
protection. Everything is restored from the store before the first event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

import msgspec

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.projection import project
from engine.domain.records import OrderRecord, PositionRecord, RiskAlertRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import (
    OrderUpdate,
    PositionSnapshot,
    ProtectionCommand,
    RejectedSignal,
    RiskAlert,
    Tick,
)
from engine.events.types import Broker, EventType, OrderStatus, Product, Severity, TradingMode
from engine.ids import client_order_id
from engine.logs.order_story import INTENT, signal_story
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.protection.exits import (
    exit_signal,
    exit_signal_id,
    from_command,
    level_of,
    state_view,
)
from engine.protection.levels import Levels, Protection, check_protection, crossed, levels_of
from engine.protection.levels import with_best as moved_best
from engine.trading_state.state import TradingState

log = logging.getLogger("alphapanda.protection")

_Key = tuple[str, int]  # strategy, instrument token
_FAILED = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED})


class ProtectionStore(Protocol):
    """The slice of the storage port this service uses."""

    async def save_protection(self, protection: Protection) -> None: ...

    async def delete_protection(
        self, broker: Broker, strategy: str, instrument_token: int
    ) -> None: ...

    async def list_protections(self, broker: Broker) -> list[Protection]: ...

    async def list_positions(self, broker: Broker) -> list[PositionRecord]: ...

    async def list_orders(
        self, broker: Broker, statuses: list[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...

    async def get_order(self, client_order_id: str) -> OrderRecord | None: ...

    async def add_alert(self, alert: RiskAlertRecord) -> None: ...


class _Held(msgspec.Struct, gc=False):
    """What the service knows of one position: enough to size and price its exit."""

    net: int
    average_price: Decimal
    symbol: str


class ProtectionService(StreamProcessor):
    """Keeps one broker's position protections and sends their exits; one per cluster."""

    def __init__(
        self,
        *,
        bus: EventBus,
        broker: Broker,
        store: ProtectionStore,
        trading_state: TradingState,
        tick_size_of: Callable[[int], Decimal | None] = lambda _token: None,
        default_product: Product = Product.MIS,
        config: ProcessorConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        name = f"protection.{broker.value}"
        super().__init__(
            name=name,
            bus=bus,
            # Commands and positions first: in one fetch, what is protected is up to date
            # before the ticks in it are checked.
            input_topics=[
                topics.CONTROL_COMMANDS,
                topics.positions(broker),
                topics.orders_events(broker),
                topics.signals_rejected(broker),
                topics.MARKET_TICKS,
            ],
            group=name,
            config=config,
            clock=clock,
        )
        self.broker = broker
        self.store = store
        self.trading_state = trading_state
        self.tick_size_of = tick_size_of
        self.default_product = default_product
        self.protections: dict[_Key, Protection] = {}
        self._by_token: dict[int, list[_Key]] = {}
        self._held: dict[_Key, _Held] = {}
        self._products: dict[_Key, Product] = {}
        self._last: dict[int, Decimal] = {}
        self._halt_logged: set[_Key] = set()
        # fired before a restart, yet its exit never became an order (the process ended
        # between storing the mark and risk's verdict): sent again, same id, on the next tick
        self._unsent: set[_Key] = set()
        self._exits: dict[str, _Key] = {}  # the client order id of each exit sent → position
        self._signals_topic = topics.signals_raw(broker)
        self._positions_topic = topics.positions(broker)

    # -- start --------------------------------------------------------------------
    async def on_start(self) -> None:
        """Positions and protections from the store, before the first tick is checked; a
        protection whose position closed or flipped while the engine was down is dropped."""
        for position in await self.store.list_positions(self.broker):
            key = (position.strategy, position.instrument_token)
            self._held[key] = _Held(position.net_quantity, position.average_price, position.symbol)
        filled = await self.store.list_orders(self.broker, [OrderStatus.FILLED], 10_000)
        for order in filled:  # newest first: the first seen is the latest product
            self._products.setdefault((order.strategy, order.instrument_token), order.product)
        self.protections.clear()
        self._by_token.clear()
        for protection in await self.store.list_protections(self.broker):
            if self._position_gone(protection):
                await self.store.delete_protection(
                    self.broker, protection.strategy, protection.instrument_token
                )
                log.warning(
                    "protection dropped at start: position %s",
                    "closed or flipped",
                    extra=self._protection_fields(protection),
                )
                continue
            self._keep(protection)
            if protection.fired:
                self._exits[client_order_id(protection.exit_signal_id)] = protection.key
                if await self._exit_unsent(protection):
                    self._unsent.add(protection.key)
        if self.protections:
            log.info("protections restored", extra={"count": len(self.protections)})
            await self._announce()

    async def _exit_unsent(self, protection: Protection) -> bool:
        order = await self.store.get_order(client_order_id(protection.exit_signal_id))
        return order is None

    async def _announce(self) -> None:
        """Publish every restored protection with its trigger prices, for the consoles."""
        out = Emitter(self.name, None, self.clock.now_ns())
        for protection in self.protections.values():
            self._emit_state(protection, out)
        try:
            await self._publish(out)
        except Exception:  # a console still draws them from the store
            log.warning("restored protections not published", extra={"processor": self.name})

    # -- events -------------------------------------------------------------------
    def handle_now(self, envelope: EventEnvelope) -> bool:
        """Most events only update what the service knows: done here, without an
        ``Emitter`` or a coroutine. A tick of an unprotected instrument only notes the last
        price; a position or order event only the book, unless it ends a protection. What
        writes or emits (a crossing, a tighter trail, a removal, a failed exit, a command)
        is left for ``handle``, which applies the same steps again (they are idempotent)."""
        data = envelope.data
        if type(data) is Tick:  # most events: one dict write, one lookup
            token = data.instrument_token
            self._last[token] = data.last_price
            return token not in self._by_token or self._tick_now(envelope, data)
        if envelope.broker is not None and envelope.broker is not self.broker:
            return True
        if type(data) is PositionSnapshot:
            return self._note_position(data)
        if type(data) is OrderUpdate:
            return self._note_order(data)
        if type(data) is RejectedSignal:
            return client_order_id(data.signal.signal_id) not in self._exits
        return False

    def _tick_now(self, envelope: EventEnvelope, tick: Tick) -> bool:
        """A tick of a protected instrument: True when it moves no trail and crosses nothing."""
        for key in self._by_token[tick.instrument_token]:
            protection = self.protections[key]
            if key in self._unsent:
                return False
            if protection.fired and protection.exit_signal_id != self._signal_id_for(
                envelope, protection
            ):
                continue
            if moved_best(protection, tick.last_price) is not protection:
                return False
            if protection.fired or self._crossing(protection, tick.last_price):
                return False
        return True

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        data = envelope.data
        if isinstance(data, Tick):
            self._last[data.instrument_token] = data.last_price
            for key in list(self._by_token.get(data.instrument_token, ())):
                await self._check(envelope, data, key, out)
            return
        if envelope.broker is not None and envelope.broker is not self.broker:
            return
        if isinstance(data, PositionSnapshot):
            await self._apply_position(data, out)
        elif isinstance(data, OrderUpdate):
            if not self._note_order(data):
                what = f"{data.status.value.lower()} by the venue"
                self._exit_failed(data.client_order_id, what, data.reason, out)
        elif isinstance(data, RejectedSignal):
            coid = client_order_id(data.signal.signal_id)
            if coid in self._exits:
                self._exit_failed(coid, f"refused by risk ({data.rule})", data.reason, out)
        elif isinstance(data, ProtectionCommand) and data.broker is self.broker:
            await self._apply_command(data, out)

    # -- ticks --------------------------------------------------------------------
    async def _check(self, envelope: EventEnvelope, tick: Tick, key: _Key, out: Emitter) -> None:
        protection = self.protections[key]
        signal_id = self._signal_id_for(envelope, protection)
        if protection.fired:
            if key in self._unsent:  # lost with the last process: the same exit again
                self._unsent.discard(key)
                signal_id = protection.exit_signal_id
                log.warning(
                    "resending an exit the last process stored but never sent",
                    extra=self._protection_fields(protection),
                )
            if protection.exit_signal_id == signal_id:  # a retry of the tick that fired
                levels = self._levels(protection)
                self._emit_exit(
                    protection, signal_id, tick, out, level_of(levels, protection.fired)
                )
                self._emit_state(protection, out)
            return
        best = moved_best(protection, tick.last_price)
        levels = self._levels(best)
        fired = crossed(best, levels, tick.last_price)
        if not fired:
            if best is not protection:
                await self._save_best(protection, best, out)
            return
        mode = self.trading_state.effective(protection.strategy)
        if mode is TradingMode.HALTED:
            self._keep(best)  # armed: it fires on a crossing tick after the resume
            if key not in self._halt_logged:
                self._halt_logged.add(key)
                log.warning(
                    "%s crossed while HALTED: no exit sent, the protection stays armed",
                    fired,
                    extra=self._protection_fields(protection),
                )
            return
        self._halt_logged.discard(key)
        done = msgspec.structs.replace(
            best, fired=fired, fired_ts=tick.exchange_ts, exit_signal_id=signal_id
        )
        await self.store.save_protection(done)  # stored before the exit leaves: never twice
        self._keep(done)
        self._emit_exit(done, signal_id, tick, out, level_of(levels, fired))
        self._emit_state(done, out)

    def _exit_failed(self, coid: str, what: str, reason: str, out: Emitter) -> None:
        """The exit did not close the position: say so loudly (it is not sent again, so a
        refusal cannot loop; the operator sets a new protection or exits by hand)."""
        key = self._exits.pop(coid)
        protection = self.protections.get(key)
        if protection is None:
            return
        message = (
            f"{protection.fired} exit for {protection.symbol} ({protection.strategy}) {what}"
            f"{': ' + reason if reason else ''}; the position is no longer protected"
        )
        log.error(message, extra={**self._protection_fields(protection), "client_order_id": coid})
        self._alert(Severity.CRITICAL, protection.strategy, protection.symbol, message, out)

    def _emit_exit(
        self,
        protection: Protection,
        signal_id: str,
        tick: Tick,
        out: Emitter,
        level: Decimal | None = None,
    ) -> None:
        key = protection.key
        held = self._held.get(key)
        if held is None or held.net == 0:
            return
        product = self._products.get(key, self.default_product)
        signal = exit_signal(protection, signal_id, abs(held.net), tick, level, product)
        self._exits[client_order_id(signal_id)] = key
        order_key = topics.order_key(self.broker, protection.strategy, protection.instrument_token)
        out.emit(
            self._signals_topic, EventType.SIGNAL_RAW, signal, key=order_key, broker=self.broker
        )
        signal_story(
            INTENT, signal, status="SIGNAL", broker=self.broker.value, reason=signal.reason
        )
        log.warning(
            "%s: exit %s %d %s at market (%s)",
            protection.fired,
            signal.side.value,
            signal.quantity,
            protection.symbol,
            signal.reason,
            extra={**self._protection_fields(protection), "signal_id": signal_id},
        )

    async def _save_best(self, old: Protection, best: Protection, out: Emitter) -> None:
        """A better price: stored when it tightens the trailing stop by a tick or more (a
        restart then never loosens it), kept in memory otherwise."""
        self._keep(best)
        before, after = self._levels(old).trail, self._levels(best).trail
        if before == after:
            return
        await self.store.save_protection(best)
        self._emit_state(best, out)

    # -- positions and orders -------------------------------------------------------
    def _note_position(self, position: PositionSnapshot) -> bool:
        """Keep the position; False when that ends its protection (``_apply_position``)."""
        key = (position.strategy, position.instrument_token)
        self._held[key] = _Held(position.net_quantity, position.average_price, position.symbol)
        protection = self.protections.get(key)
        return protection is None or not self._position_gone(protection)

    async def _apply_position(self, position: PositionSnapshot, out: Emitter) -> None:
        if self._note_position(position):
            return
        protection = self.protections[(position.strategy, position.instrument_token)]
        why = "position closed" if position.net_quantity == 0 else "position flipped"
        await self._remove(protection, why, out)

    def _note_order(self, update: OrderUpdate) -> bool:
        """Keep the product a fill was bought on; False when the update is a failed exit."""
        if update.fill is not None:
            self._products[(update.strategy, update.instrument_token)] = update.product
        return not (update.status in _FAILED and update.client_order_id in self._exits)

    def _position_gone(self, protection: Protection) -> bool:
        held = self._held.get(protection.key)
        return held is None or held.net * protection.direction <= 0

    # -- commands -------------------------------------------------------------------
    async def _apply_command(self, command: ProtectionCommand, out: Emitter) -> None:
        key = (command.strategy, command.instrument_token)
        current = self.protections.get(key)
        if command.clear:
            if current is not None:
                await self._remove(current, f"cleared by {command.operator or 'operator'}", out)
            return
        held = self._held.get(key)
        direction = 0 if held is None or held.net == 0 else (1 if held.net > 0 else -1)
        symbol = held.symbol if held is not None else str(command.instrument_token)
        token = command.instrument_token
        best = self._last.get(token) or (held.average_price if held else None)
        protection = from_command(command, symbol, direction, best, out.now_ns)
        problem = check_protection(protection, self.tick_size_of(token))
        if problem:
            alert = self._refuse(command, symbol, problem, out)
            # stored as risk's refusals are: ``alphapanda protect`` reads it back
            await self.store.add_alert(project(RiskAlertRecord, alert))
            return
        await self.store.save_protection(protection)
        self._keep(protection)
        self._emit_state(protection, out)
        log.info(
            "protection set",
            extra={**self._protection_fields(protection), "operator": command.operator},
        )

    def _refuse(
        self, command: ProtectionCommand, symbol: str, problem: str, out: Emitter
    ) -> RiskAlert:
        message = f"protection for {symbol} ({command.strategy}) not set: {problem}"
        log.warning(message, extra={"strategy": command.strategy, "symbol": symbol})
        return self._alert(Severity.WARNING, command.strategy, symbol, message, out)

    def _alert(
        self, severity: Severity, strategy: str, symbol: str, message: str, out: Emitter
    ) -> RiskAlert:
        alert = RiskAlert(
            severity=severity,
            rule="protection",
            message=message,
            broker=self.broker,
            strategy=strategy,
            symbol=symbol,
            alert_ts=out.now_ns,
        )
        out.emit(topics.SYSTEM_ALERTS, EventType.RISK_ALERT, alert, broker=self.broker)
        return alert

    async def _remove(self, protection: Protection, why: str, out: Emitter) -> None:
        await self.store.delete_protection(
            self.broker, protection.strategy, protection.instrument_token
        )
        self._forget(protection.key)
        self._emit_state(protection, out, removed=why)
        log.info("protection removed: %s", why, extra=self._protection_fields(protection))

    # -- bookkeeping --------------------------------------------------------------
    def _keep(self, protection: Protection) -> None:
        key = protection.key
        if key not in self.protections:
            self._by_token.setdefault(protection.instrument_token, []).append(key)
        self.protections[key] = protection

    def _forget(self, key: _Key) -> None:
        protection = self.protections.pop(key, None)
        if protection is None:
            return
        if protection.exit_signal_id:
            self._exits.pop(client_order_id(protection.exit_signal_id), None)
        keys = self._by_token.get(key[1], [])
        if key in keys:
            keys.remove(key)
        if not keys:
            self._by_token.pop(key[1], None)
        self._halt_logged.discard(key)
        self._unsent.discard(key)

    def _levels(self, protection: Protection) -> Levels:
        held = self._held.get(protection.key)
        average = held.average_price if held is not None else Decimal(0)
        return levels_of(protection, average, self.tick_size_of(protection.instrument_token))

    def _crossing(self, protection: Protection, price: Decimal) -> bool:
        return bool(crossed(protection, self._levels(protection), price))

    def _signal_id_for(self, envelope: EventEnvelope, protection: Protection) -> str:
        tick = envelope.data
        ts = tick.exchange_ts if isinstance(tick, Tick) else envelope.ts
        return exit_signal_id(envelope.id, protection, ts)

    def _emit_state(self, protection: Protection, out: Emitter, removed: str = "") -> None:
        levels = None if removed else self._levels(protection)
        out.emit(
            self._positions_topic,
            EventType.PROTECTION_UPDATED,
            state_view(protection, levels, out.now_ns, removed),
            key=topics.order_key(self.broker, protection.strategy, protection.instrument_token),
            broker=self.broker,
        )

    def _protection_fields(self, protection: Protection) -> dict[str, object]:
        # Not ``_extra``: the processor's failure path calls that one with the bus record.
        return {
            "strategy": protection.strategy,
            "symbol": protection.symbol,
            "instrument_token": protection.instrument_token,
            "broker": self.broker.value,
        }

    def views(self) -> list[tuple[Protection, Levels]]:
        """Every protection kept now with its trigger prices (for a read model or a test)."""
        return [(p, self._levels(p)) for p in self.protections.values()]
