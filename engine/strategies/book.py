"""What each strategy holds and has in flight, so its intended position follows its fills.

A strategy wishes a position; the pipeline may fill it, fill part of it, or refuse it.
The runner reads the order events and rejections of its strategies' brokers and keeps
here, per strategy and instrument:

- ``held``: the net filled quantity, counted from the fills on order events (each order's
  cumulative filled quantity, so a redelivered event adds nothing), restored from the
  journal at start;
- ``pending``: the client order ids of signals still in flight (emitted, not yet
  rejected nor ended);
- ``retry``: a signal was refused only because of the strategy's own orders in flight
  (risk's ``strategy_position`` rule counts them at their worst), so its wish is made
  again once they have ended instead of being dropped.

While an order is in flight the strategy keeps its wish (its decisions stay a function of
the ticks, so a backtest does not depend on how fast fills come back); once nothing is in
flight its intended position becomes what it holds (``PositionalStrategy.settle``). A fill that
arrives late, a position published late, or a rejection read after the next tick can
therefore never resurrect an old intent or stack a position.

Positions published by the portfolio are not read: they travel on another topic and may
arrive before or after the order event that caused them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.domain.records import FillRecord, OrderRecord
from engine.events.payloads import OrderUpdate
from engine.events.types import Broker
from engine.order_fills import OrderFills
from engine.strategies.base import PositionalStrategy

_Key = tuple[Broker, str, int]  # broker, strategy, instrument token
# risk refused the signal because of the strategy's own orders in flight: try again
RETRY_RULES = frozenset({"strategy_position"})


class StrategyBook:
    """Held quantities and in-flight orders of a runner's strategies."""

    def __init__(self, strategies: Mapping[tuple[Broker, str], PositionalStrategy]) -> None:
        self._strategies = strategies
        self._held: dict[_Key, int] = {}
        self._pending: dict[_Key, set[str]] = {}
        self._retry: set[_Key] = set()
        self._counted = OrderFills()

    # -- start ----------------------------------------------------------------------
    def restore(
        self, broker: Broker, fills: Iterable[FillRecord], working: Iterable[OrderRecord]
    ) -> None:
        """The journal's fills and the working orders of ``broker``; the strategies start
        from what they hold plus what is still working, not FLAT."""
        filled: dict[str, int] = {}
        for fill in fills:
            if (broker, fill.strategy) not in self._strategies:
                continue
            key = (broker, fill.strategy, fill.instrument_token)
            self._held[key] = self._held.get(key, 0) + fill.side.sign * fill.quantity
            filled[fill.client_order_id] = filled.get(fill.client_order_id, 0) + fill.quantity
        for cid, quantity in filled.items():
            self._counted.add(cid, quantity)
        working_net: dict[_Key, int] = {}
        for order in working:
            if (broker, order.strategy) not in self._strategies:
                continue
            key = (broker, order.strategy, order.instrument_token)
            self._pending.setdefault(key, set()).add(order.client_order_id)
            remaining = max(order.quantity - order.filled_quantity, 0)
            working_net[key] = working_net.get(key, 0) + order.side.sign * remaining
        for key in self._held.keys() | working_net.keys():
            strategy = self._strategies[key[:2]]
            strategy.sync(key[2], self._held.get(key, 0) + working_net.get(key, 0))
            strategy.hold(key[2], self._held.get(key, 0))

    # -- live -----------------------------------------------------------------------
    def sent(self, broker: Broker, strategy: str, token: int, client_order_id: str) -> None:
        """A signal left the runner: its order is in flight until it ends."""
        self._pending.setdefault((broker, strategy, token), set()).add(client_order_id)

    def order_event(self, update: OrderUpdate) -> None:
        """Count the fill it carries; an order that ended is no longer in flight."""
        strategy = self._strategies.get((update.broker, update.strategy))
        if strategy is None:
            return
        key = (update.broker, update.strategy, update.instrument_token)
        cid = update.client_order_id
        new = self._counted.add(cid, update.filled_quantity)
        if new:
            held = self._held.get(key, 0) + update.side.sign * new
            self._held[key] = held
            strategy.hold(update.instrument_token, held)
        if update.status.is_terminal:
            self._ended(key, cid)

    def rejected(
        self, broker: Broker, strategy: str, token: int, client_order_id: str, rule: str = ""
    ) -> None:
        """Risk refused the signal: it never became an order."""
        if (broker, strategy) in self._strategies:
            key = (broker, strategy, token)
            if rule in RETRY_RULES and self._pending.get(key, set()) - {client_order_id}:
                self._retry.add(key)
            self._ended(key, client_order_id)

    def _ended(self, key: _Key, client_order_id: str) -> None:
        pending = self._pending.get(key)
        if pending is not None:
            pending.discard(client_order_id)
            if pending:
                return
            del self._pending[key]
        retry = key in self._retry
        self._retry.discard(key)
        self._strategies[key[:2]].settle(key[2], retry=retry)

    # -- readers ----------------------------------------------------------------------
    def held(self, broker: Broker, strategy: str, token: int) -> int:
        return self._held.get((broker, strategy, token), 0)

    def in_flight(self, broker: Broker, strategy: str, token: int) -> int:
        return len(self._pending.get((broker, strategy, token), ()))
