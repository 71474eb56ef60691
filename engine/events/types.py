"""Enumerations shared by every event: what happened, on which broker, in which direction."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """Every event type any service emits. A new event must be added here first."""

    MARKET_TICK = "market.tick"
    SIGNAL_RAW = "signal.raw"
    SIGNAL_VALIDATED = "signal.validated"
    SIGNAL_REJECTED = "signal.rejected"
    ORDER_INTENT = "order.intent"
    ORDER_SUBMITTED = "order.submitted"
    ORDER_OPEN = "order.open"
    ORDER_PARTIALLY_FILLED = "order.partially_filled"
    ORDER_FILLED = "order.filled"
    ORDER_REJECTED = "order.rejected"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_MODIFIED = "order.modified"
    ORDER_COMMAND = "order.command"
    ORDER_VENUE_UPDATE = "order.venue_update"  # a live venue's order update, for execution
    PNL_SNAPSHOT = "pnl.snapshot"
    POSITION_UPDATED = "position.updated"
    RISK_ALERT = "risk.alert"
    ALERTS_ACKNOWLEDGED = "alerts.acknowledged"  # pinned CRITICAL alerts an operator has read
    HEALTH = "system.health"
    CONTROL_COMMAND = "control.command"
    TRADING_STATE_CHANGED = "trading.state_changed"
    RECONCILIATION_DIFF = "reconciliation.diff"
    PROTECTION_COMMAND = "protection.command"  # set / clear a position's stop and target
    PROTECTION_UPDATED = "protection.updated"  # a position's stop and target as kept
    FUNDS_UPDATED = "funds.updated"  # the account's funds, for consoles in other processes
    DEAD_LETTER = "dead_letter"


class Broker(StrEnum):
    """Execution venue; paper and zerodha never share state, topics, keys or groups."""

    PAPER = "paper"
    ZERODHA = "zerodha"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    def __init__(self, value: str) -> None:
        # +1 buys, -1 sells. A plain attribute: read for every order and fill, and an
        # enum property costs several times a lookup.
        self.sign = 1 if value == "BUY" else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"
    SL_M = "SL-M"


class Product(StrEnum):
    MIS = "MIS"
    CNC = "CNC"
    NRML = "NRML"


class Validity(StrEnum):
    DAY = "DAY"
    IOC = "IOC"


_TERMINAL_VALUES = frozenset({"FILLED", "REJECTED", "CANCELLED"})


class OrderStatus(StrEnum):
    """Lifecycle of an order as the engine tracks it (Kite's statuses map onto these)."""

    PENDING = "PENDING"  # written to the outbox, not yet acknowledged by the broker
    SUBMITTED = "SUBMITTED"
    OPEN = "OPEN"
    TRIGGER_PENDING = "TRIGGER_PENDING"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"  # sent but the outcome is not known yet: resolve by tag lookup

    def __init__(self, value: str) -> None:
        # Plain attributes, not properties: read for every order event on the hot path.
        self.is_terminal = value in _TERMINAL_VALUES
        self.is_working = not self.is_terminal


class TradingMode(StrEnum):
    """Trading state of a strategy or of the whole engine."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"  # only orders that reduce a position
    HALTED = "HALTED"  # no new orders; cancels allowed


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class ControlAction(StrEnum):
    HALT = "halt"
    RESUME = "resume"
    REDUCE = "reduce"
    KILL = "kill"


class OrderCommandAction(StrEnum):
    CANCEL = "cancel"
    MODIFY = "modify"
    CANCEL_ALL = "cancel_all"
    SQUARE_OFF_ALL = "square_off_all"


class ComponentStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # circuit breaker open
    STOPPED = "stopped"
    DEGRADED = "degraded"
    DOWN = "down"
