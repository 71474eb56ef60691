"""Topic names, from one place. ``{broker}`` topics keep paper and live apart."""

from __future__ import annotations

from engine.events.types import Broker

MARKET_TICKS = "market.ticks"
SYSTEM_ALERTS = "system.alerts"
SYSTEM_HEALTH = "system.health"
CONTROL_COMMANDS = "control.commands"
TRADING_STATE = "control.state"
DLQ_SUFFIX = ".dlq"
# Broker names as plain strings: an enum's ``.value`` is a Python-level descriptor, and
# these run for every order event.
_NAME: dict[Broker, str] = {broker: str.__str__(broker) for broker in Broker}


def signals_raw(broker: Broker) -> str:
    return _NAME[broker] + ".signals.raw"


def signals_validated(broker: Broker) -> str:
    return _NAME[broker] + ".signals.validated"


def signals_rejected(broker: Broker) -> str:
    return _NAME[broker] + ".signals.rejected"


def orders_events(broker: Broker) -> str:
    """Order lifecycle (submitted … filled / cancelled), keyed by broker:strategy:instrument."""
    return _NAME[broker] + ".orders.events"


def orders_commands(broker: Broker) -> str:
    """Cancel / modify / flatten requests for the execution service."""
    return _NAME[broker] + ".orders.commands"


def pnl_snapshots(broker: Broker) -> str:
    return _NAME[broker] + ".pnl.snapshots"


def positions(broker: Broker) -> str:
    return _NAME[broker] + ".positions"


def broker_name(broker: Broker) -> str:
    """``broker.value`` as a plain string (the key of per-broker account events)."""
    return _NAME[broker]


def dlq(topic: str) -> str:
    return topic + DLQ_SUFFIX


def order_key(broker: Broker, strategy: str, instrument_token: int | str) -> str:
    """The partition key for orders and fills: per-key order holds on any partitioned bus."""
    return f"{_NAME[broker]}:{strategy}:{instrument_token}"


def broker_topics(broker: Broker) -> list[str]:
    return [
        signals_raw(broker),
        signals_validated(broker),
        signals_rejected(broker),
        orders_events(broker),
        orders_commands(broker),
        pnl_snapshots(broker),
        positions(broker),
    ]


def all_topics(brokers: tuple[Broker, ...] = tuple(Broker)) -> list[str]:
    """Every topic the pipeline uses (without DLQs), for creating them on a cluster."""
    topics = [MARKET_TICKS, SYSTEM_ALERTS, SYSTEM_HEALTH, CONTROL_COMMANDS, TRADING_STATE]
    for broker in brokers:
        topics.extend(broker_topics(broker))
    return topics
