"""``AttachedRuntime``: the console on a running cluster (``alphapanda --attach``).

It runs no trading service. A ``ReadModelProcessor`` in a consumer group of its own
keeps the console's read model current (so any number of consoles can attach at once),
seeded from the Redis read model when ``ALPHAPANDA_REDIS__URL`` is set. Halt, resume and
the kill switch publish ``ControlCommand``s stamped with the operator (``user@host``);
every engine process obeys them and its trading-state service writes the audit row.
The console never cancels orders itself (``acts_on_orders=False`` semantics): the
engines that own execution do. Orders by hand (place, cancel, exit) are published as
the embedded console publishes them, with the instrument registry loaded the same way
(``ALPHAPANDA_FEED__INSTRUMENTS_CSV`` or the bundled sample), so risk and execution in
the cluster judge and send them. A modify needs the count of modifications already sent,
which lives in the cluster's audit log: with ``ALPHAPANDA_DATABASE__URL`` set the console
reads it (and records its own there), as ``alphapanda modify`` does; without, it refuses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from alphapanda_tui import engine_config
from alphapanda_tui.errors import ConfigError
from alphapanda_tui.operator import operator_identity
from alphapanda_tui.settings import Settings
from engine.bus.base import EventBus
from engine.clock import Clock, EventClock, SystemClock
from engine.domain.records import AuditRecord
from engine.events import topics
from engine.events.envelope import new_event
from engine.events.payloads import AlertsAcknowledged, HealthReport, RiskAlert, TradingStateChanged
from engine.events.types import Broker, EventType, TradingMode
from engine.instruments import InstrumentRegistry
from engine.processing import Supervisor
from engine.read_model import ReadModel
from engine.read_model.alerts import AlertKey, AlertLine
from engine.read_model.funds_relay import apply_funds
from engine.read_model.processor import ReadModelProcessor, attached_from_end
from engine.read_model.views import StrategyInfo
from engine.trading_state.control import TradingControl
from engine.trading_state.manual_requests import modifications_done
from engine.trading_state.operator import OperatorControl, TradingOperator, show_changes
from engine.trading_state.state import GLOBAL_SCOPE, TradingState
from engine.venue import sessionless_venue

log = logging.getLogger("alphapanda.attach")
audit_log = logging.getLogger("alphapanda.audit")


def check_attach_settings(settings: Settings) -> Settings:
    """Attach means Kafka; refuse a cluster whose credentials are incomplete (one line)."""
    bus = settings.bus
    if bus.security_protocol.startswith("SASL"):
        missing = [
            name
            for name, value in (
                ("ALPHAPANDA_BUS__SASL_MECHANISM", bus.sasl_mechanism),
                ("ALPHAPANDA_BUS__SASL_USERNAME", bus.sasl_username),
                ("ALPHAPANDA_BUS__SASL_PASSWORD", bus.sasl_password),
            )
            if not value or (hasattr(value, "get_secret_value") and not value.get_secret_value())
        ]
        if missing:
            raise ConfigError(
                f"cannot attach to {bus.bootstrap_servers} over {bus.security_protocol}: "
                f"{', '.join(missing)} not set"
            )
    if bus.backend != "kafka":
        settings = settings.model_copy(update={"bus": bus.model_copy(update={"backend": "kafka"})})
    return settings


class AttachedRuntime:
    """Observer and operator console of a cluster (implements ``backend.EngineHandle``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        log_ring: object | None = None,
        bus: EventBus | None = None,
        read_cache: Any = None,
        operator: str | None = None,
    ) -> None:
        self.settings = check_attach_settings(settings)
        self.mode = settings.mode
        self.venue = sessionless_venue(settings.mode)  # the cluster's engine holds the session
        self.broker: Broker = settings.broker
        self.clock: Clock = clock or SystemClock()
        self.log_ring = log_ring
        self.read_model = ReadModel(clock=engine_config.run_clock(settings))
        # the cluster's risk processes build their limits from the same ALPHAPANDA_RISK__
        # settings (one configuration per cluster), so the ticket's band is theirs
        self.risk_limits = engine_config.risk_limits(self.settings)
        self.operator = operator or operator_identity()
        self.trading_state = TradingState(self.broker)
        show_changes(self.trading_state, self.read_model.apply_trading_state)
        self._bus = bus
        self._owns_bus = bus is None
        self._cache = read_cache
        self._owns_cache = read_cache is None
        self._store: Any = None  # the cluster's database, opened for the audit log on demand
        self._store_failed = False
        self.control: TradingControl | None = None
        self.registry = self._load_registry()
        # kill, halt, resume, reduce and orders by hand: the one implementation every
        # console and the CLI share
        self.controls: OperatorControl = TradingOperator(
            self._attached_control,
            not_running="the console is not attached",
            after_send=self._flush,
            instruments=self.registry.get,
        )
        self.reader: ReadModelProcessor | None = None
        self.supervisor: Supervisor | None = None
        self.read_model.set_session(None, None)
        self._load_strategies()

    def _load_registry(self) -> InstrumentRegistry:
        """The instruments an order by hand may name, as the embedded runtime loads them;
        unreadable here: none (a ticket is then refused as an unknown instrument)."""
        from alphapanda_tui.runtime import build_registry

        try:
            return build_registry(self.settings)
        except ConfigError as exc:
            log.warning("no instruments for orders by hand", extra={"error": str(exc)})
            return InstrumentRegistry()

    def _load_strategies(self) -> None:
        """Show the configured strategies when this machine has the file (optional)."""
        from alphapanda_tui.runtime import build_bindings

        try:
            bindings = build_bindings(self.settings, self.registry)
        except ConfigError:
            return
        self.read_model.set_strategies(
            StrategyInfo(b.config.name, b.config.kind, tuple(b.config.instruments))
            for b in bindings
        )

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        from alphapanda_tui.runtime import build_bus, build_read_cache

        if self._bus is None:
            self._bus = build_bus(self.settings)
            try:
                await self._bus.start()
            except Exception as exc:
                self._bus = None
                raise ConfigError(str(exc).splitlines()[0]) from None
        if self._cache is None and self._owns_cache:
            self._cache = build_read_cache(self.settings)
        if self._cache is not None:
            await self.seed_from_cache(self._cache)
        self.control = TradingControl(
            self._bus,
            self.trading_state,
            self.broker,
            self.clock,
            operator=self.operator,
            source="console",
            run_clock=self._run_clock(),
        )
        self.reader = ReadModelProcessor(
            bus=self._bus,
            model=self.read_model,
            broker=self.broker,
            clock=self.clock,
            from_end=attached_from_end(),
        )
        self.read_model.bus_lag = self.reader.lag
        self.supervisor = Supervisor([self.reader], is_outage=self._bus.is_outage)
        self.supervisor.start()
        log.info(
            "console attached",
            extra={"bootstrap": self.settings.bus.bootstrap_servers, "group": self.reader.group},
        )

    def _run_clock(self) -> Clock:
        """The cluster's run time, as the embedded runtime keeps it: on a simulated or
        replayed market the newest event time the console has seen (an order by hand is
        stamped with it, and risk judges market hours by it), else the wall clock."""
        model = self.read_model
        if not model.clock.follows_events:
            return self.clock
        return EventClock([lambda: model.event_ns], fallback=self.clock)

    async def seed_from_cache(self, cache: Any) -> None:
        """The current picture from the Redis read model, before the bus catches up: with
        the unacknowledged CRITICAL alerts pinned (the alerts topic may not hold them any
        more: a broker restarted, its retention passed)."""
        try:
            positions = await cache.positions()
            orders = await cache.orders()
            pnl = await cache.pnl()
            funds = await cache.funds()
            health: HealthReport | None = await cache.health()
            states: dict[str, TradingStateChanged] = await cache.trading_states()
            pinned: list[RiskAlert] = await cache.pinned_alerts()
            acknowledged: dict[AlertKey, int] = await cache.acknowledged_alerts()
        except Exception as exc:  # a console still works from the bus alone
            log.warning("read model cache unavailable", extra={"error": str(exc)})
            return
        model = self.read_model
        if pnl is not None:
            model.apply_pnl(pnl)
            if model.clock.follows_events and model.event_ns is None and pnl.event_ts:
                model.event_ns = pnl.event_ts  # the SIM clock where the cluster last valued
        if funds is not None:
            apply_funds(model, funds)
        for position in positions:
            model.apply_position(position)
        for order in reversed(orders):
            model.apply_order(order)
        if health is not None:
            model.apply_health(health)
        model.alert_book.acknowledged.update(acknowledged)  # before the alerts: not re-pinned
        for alert in pinned:
            model.apply_alert(alert)
        for change in states.values():
            model.apply_trading_state(change)

    async def stop(self) -> None:
        if self.supervisor is not None:
            await self.supervisor.stop()
            self.supervisor = None
        if self._bus is not None and self._owns_bus:
            await self._bus.aclose()
            self._bus = None
        if self._cache is not None and self._owns_cache:
            await self._cache.aclose()
            self._cache = None
        if self._store is not None:
            await self._store.aclose()
            self._store = None
        log.info("console detached")

    async def wait_ready(self, timeout: float = 15.0) -> None:
        """Until the reader has joined its consumer group (tests and scripts)."""
        import asyncio

        async with asyncio.timeout(timeout):
            while self.reader is None or self.reader.status.value == "stopped":
                await asyncio.sleep(0.02)

    # -- control -----------------------------------------------------------------------
    def _attached_control(self) -> TradingControl | None:
        """The console's control while attached: its state (and header) tighten at once;
        the engines obey the commands it publishes."""
        return self.control if self._bus is not None else None

    async def share_acknowledgement(self, lines: Sequence[AlertLine], operator: str = "") -> None:
        """Tell every console (and the read-model cache, for consoles that start later)
        that the operator has read these pinned alerts: each line's newest alert, at the
        time its source gave it."""
        if self._bus is None or not lines:
            return
        ack = AlertsAcknowledged(
            alerts=tuple(
                msgspec.structs.replace(line.alert, alert_ts=line.source_ts) for line in lines
            ),
            operator=operator or self.operator,
            ack_ts=self.clock.now_ns(),
        )
        event = new_event(
            EventType.ALERTS_ACKNOWLEDGED,
            ack,
            source="console",
            key=self.broker.value,
            broker=self.broker,
        )
        await self._bus.publish(topics.SYSTEM_ALERTS, event)
        await self._bus.flush()

    async def _flush(self) -> None:
        if self._bus is not None:
            await self._bus.flush()

    async def _audit_store(self) -> Any:
        """The cluster's database when ``ALPHAPANDA_DATABASE__URL`` names it (never a local
        default: a count read from an empty file would let a 26th modification out)."""
        if self._store is None and not self._store_failed and self.settings.database.url:
            from alphapanda_tui.store_opening import open_store

            try:
                self._store = await open_store(self.settings)
            except ConfigError as exc:
                self._store_failed = True
                log.warning("no audit log for the console", extra={"error": str(exc)})
        return self._store

    async def modifications_done(self, client_order_id: str) -> int | None:
        """Modifications of the order already sent, from the cluster's audit log (the
        count ``alphapanda modify`` reads); None without the database."""
        store = await self._audit_store()
        return None if store is None else await modifications_done(store, client_order_id)

    async def record_audit(
        self, action: str, detail: Mapping[str, object], operator: str = ""
    ) -> None:
        """An operator action in the cluster's audit table; the audit channel without it."""
        store = await self._audit_store()
        if store is None:
            audit_log.info(action, extra={"actor": operator, "action": action, **detail})
            return
        now = self.control.run_clock.now_ns() if self.control else self.clock.now_ns()
        row = AuditRecord(
            audit_ts=now,
            actor=operator or self.operator,
            action=action,
            detail={"broker": self.broker.value, **detail},
        )
        await store.add_audit(row)

    @property
    def global_mode(self) -> TradingMode:
        return self.read_model.trading_states.get(GLOBAL_SCOPE, TradingMode.ACTIVE)


def build_attached(settings: Settings, **kwargs: Any) -> AttachedRuntime:
    return AttachedRuntime(settings, **kwargs)


async def probe_cluster(settings: Settings) -> None:
    """Connect once and leave: an unreachable cluster is a one-line error before the UI.

    Without it the console would open full screen and only then report that it has
    nothing to attach to, with the terminal in alternate-screen mode over SSH.
    """
    from alphapanda_tui.runtime import build_bus

    bus = build_bus(check_attach_settings(settings))
    try:
        await bus.start()
    except Exception as exc:
        raise ConfigError(str(exc).splitlines()[0]) from None
    await bus.aclose()
