"""Strategy runner: routes each tick to the strategies subscribed to its instrument.

It turns intents into ``Signal`` events on ``{broker}.signals.raw``, keyed
``broker:strategy:token``. It does not gate on trading state: a halted strategy still
sees ticks (its indicators stay warm); risk and execution refuse its orders.
Signal ids derive from the tick's event id and the strategy name, and the outputs of the
last ticks are remembered, so a retried or redelivered tick repeats the same signals
instead of feeding the strategy twice.

A strategy configured with ``bars`` (an interval) is fed closed bars instead: one
``BarAggregator`` per interval folds the ticks in, and a bar that the tick's event time
closed is handed to ``on_bar``; its signals carry the bar's close as reference price and
the closing tick's time.

The runner also reads each broker's rejections and order events, so a strategy's
intended position follows what was filled (``engine.strategies.book``): restored from the
journal at start, kept while its orders are in flight, made what is held once they end.
(Scaled out over Kafka, a runner sees the order events of its partitions only; a strategy
whose orders it does not see keeps its wish, and risk's per-strategy position rule is the
backstop.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from engine.bus.base import EventBus
from engine.clock import Clock
from engine.domain.records import FillRecord, OrderRecord
from engine.events import topics
from engine.events.envelope import EventEnvelope
from engine.events.payloads import OrderUpdate, RejectedSignal, Signal, Tick
from engine.events.types import Broker, EventType, OrderStatus, OrderType, Product
from engine.ids import client_order_id, derived_uuid7
from engine.logs.order_story import INTENT, signal_story
from engine.market.bars import Bar, BarAggregator
from engine.market.calendar import NseCalendar
from engine.memo import remember
from engine.processing.dedup import DedupStore
from engine.processing.emitter import Emitter
from engine.processing.processor import ProcessorConfig, StreamProcessor
from engine.processing.retry import PermanentError
from engine.strategies.base import PositionalStrategy, SignalIntent
from engine.strategies.book import StrategyBook
from engine.strategies.config import TICKS
from engine.strategies.factory import StrategyBinding

log = logging.getLogger("alphapanda.strategies")

_Output = tuple[str, str, Broker, Signal]  # topic, key, broker, signal
_KEY_CACHE = 65_536
_NO_OUTPUTS: list[_Output] = []  # never appended to: ``_evaluate`` copies on first output
_WORKING = [s for s in OrderStatus if s.is_working]


class BookSource(Protocol):
    """The slice of the storage port the runner reads at start."""

    async def list_fills(self, broker: Broker) -> list[FillRecord]: ...

    async def list_orders(
        self, broker: Broker, statuses: list[OrderStatus] | None = None, limit: int = 500
    ) -> list[OrderRecord]: ...


class _Route:
    __slots__ = ("binding", "broker", "keys", "name", "on_bar", "on_tick", "product", "topic")

    def __init__(self, binding: StrategyBinding, product: Product) -> None:
        self.binding = binding
        self.product = product
        self.name = binding.name
        self.broker: Broker = binding.broker
        self.topic = topics.signals_raw(binding.broker)
        self.on_tick = binding.strategy.on_tick
        self.on_bar = binding.strategy.on_bar
        self.keys: dict[int, str] = {}  # order key per instrument token it trades

    def key(self, instrument_token: int) -> str:
        key = self.keys.get(instrument_token)
        if key is None:
            key = topics.order_key(self.broker, self.name, instrument_token)
            remember(self.keys, instrument_token, key, _KEY_CACHE)
        return key


class StrategyRunner(StreamProcessor):
    """Consumes ``market.ticks``; constant work per tick per subscribed strategy."""

    def __init__(
        self,
        bus: EventBus,
        bindings: Sequence[StrategyBinding],
        *,
        name: str = "strategy-runner",
        config: ProcessorConfig | None = None,
        dedup: DedupStore | None = None,
        clock: Clock | None = None,
        replay_window: int = 256,
        store: BookSource | None = None,
        product: Product = Product.MIS,  # what every signal's order is (MIS: intraday)
        calendar: NseCalendar | None = None,  # the sessions bars are aligned to
    ) -> None:
        brokers = sorted({b.broker for b in bindings})
        book_topics = [
            topic
            for broker in brokers
            for topic in (topics.signals_rejected(broker), topics.orders_events(broker))
        ]
        super().__init__(
            name=name,
            bus=bus,
            input_topics=[topics.MARKET_TICKS, *book_topics],
            config=config,
            dedup=dedup,
            clock=clock,
        )
        names = [b.name for b in bindings]
        if len(set(names)) != len(names):
            raise ValueError(f"strategy names must be unique: {names}")
        self.bindings = list(bindings)
        self.store = store
        self._brokers = brokers
        strategies: dict[tuple[Broker, str], PositionalStrategy] = {
            (b.broker, b.name): b.strategy for b in self.bindings
        }
        self.book = StrategyBook(strategies)
        self._routes: dict[int, list[_Route]] = {}
        bar_routes: dict[str, dict[int, list[_Route]]] = {}
        for binding in self.bindings:
            route = _Route(binding, product)
            interval = binding.config.bars
            by_token = self._routes if interval == TICKS else bar_routes.setdefault(interval, {})
            for token in sorted(binding.tokens):
                by_token.setdefault(token, []).append(route)
        self._bar_routes = bar_routes
        self._aggregators = [
            BarAggregator(interval, calendar=calendar, tokens=frozenset(routes))
            for interval, routes in sorted(bar_routes.items())
        ]
        self._recent: dict[str, list[_Output]] = {}
        self._replay_window = replay_window
        self.signals_emitted = 0
        self.strategy_errors: dict[str, int] = {}

    def subscribed_tokens(self) -> frozenset[int]:
        bar_tokens = [token for routes in self._bar_routes.values() for token in routes]
        return frozenset([*self._routes, *bar_tokens])

    async def on_start(self) -> None:
        """Strategies start from what the journal says they hold, not FLAT."""
        if self.store is None:
            return
        for broker in self._brokers:
            fills = await self.store.list_fills(broker)
            working = await self.store.list_orders(broker, statuses=_WORKING, limit=10_000)
            self.book.restore(broker, fills, working)

    def _apply_book(self, envelope: EventEnvelope) -> bool:
        """Apply a rejection or an order event; False for anything else."""
        data = envelope.data
        if isinstance(data, OrderUpdate):
            self.book.order_event(data)
        elif isinstance(data, RejectedSignal):
            signal = data.signal
            cid = client_order_id(signal.signal_id)
            for broker in [envelope.broker] if envelope.broker else self._brokers:
                self.book.rejected(broker, signal.strategy, signal.instrument_token, cid, data.rule)
        else:
            return False
        return True

    def handle_now(self, envelope: EventEnvelope) -> bool:
        """Feed the strategies; done here unless the tick produced signals to emit.

        Outputs are remembered under the tick's id, so ``handle`` emits them without
        feeding the strategies a second time. Book events are applied here, emitting
        nothing.
        """
        tick = envelope.data
        if type(tick) is not Tick:
            return self._apply_book(envelope)
        routes = self._routes.get(tick.instrument_token)
        if routes is None and not self._aggregators:
            return True
        event_id = envelope.id
        if event_id in self._recent:
            return False
        outputs = self._evaluate(event_id, tick, routes)
        if not outputs:
            return True
        self._remember(event_id, outputs)
        return False

    async def handle(self, envelope: EventEnvelope, out: Emitter) -> None:
        tick = envelope.data
        if not isinstance(tick, Tick):
            if self._apply_book(envelope):
                return
            raise PermanentError(f"expected a tick on {topics.MARKET_TICKS}, got {envelope.type}")
        routes = self._routes.get(tick.instrument_token)
        if routes is None and not self._aggregators:
            return
        outputs = self._recent.get(envelope.id)
        if outputs is None:
            outputs = self._evaluate(envelope.id, tick, routes)
            self._remember(envelope.id, outputs)
        for topic, key, broker, signal in outputs:
            out.emit(topic, EventType.SIGNAL_RAW, signal, key=key, broker=broker)
            signal_story(INTENT, signal, status="SIGNAL", broker=broker.value, reason=signal.reason)
        self.signals_emitted += len(outputs)

    def _evaluate(self, event_id: str, tick: Tick, routes: list[_Route] | None) -> list[_Output]:
        """The signals ``routes`` produce for ``tick``, then those of the bars its time
        closed; usually none (the shared empty list, so the common tick allocates nothing)."""
        outputs = _NO_OUTPUTS
        for route in routes or ():
            try:
                intents = route.on_tick(tick)
            except Exception:
                self._strategy_failed(route, "tick")
                continue
            if not intents:
                continue
            if outputs is _NO_OUTPUTS:
                outputs = []
            first = len(outputs)
            self._add_signals(outputs, event_id, tick, route, intents)
            for _, _, broker, signal in outputs[first:]:
                self.book.sent(
                    broker, route.name, tick.instrument_token, client_order_id(signal.signal_id)
                )
        for aggregator in self._aggregators:
            for bar in aggregator.on_tick(tick):
                outputs = self._on_bar(outputs, event_id, tick, bar)
        return outputs

    def _strategy_failed(self, route: _Route, on: str) -> None:
        """One faulty strategy must not starve the others: its failure (on a tick or a
        bar, the exception being handled) is counted and logged, and the others go on."""
        self.strategy_errors[route.name] = self.strategy_errors.get(route.name, 0) + 1
        log.exception(f"strategy failed on {on}", extra={"strategy": route.name})

    def _on_bar(self, outputs: list[_Output], event_id: str, tick: Tick, bar: Bar) -> list[_Output]:
        """Hand a closed bar to its strategies; their signals are appended to ``outputs``."""
        for route in self._bar_routes[bar.interval].get(bar.instrument_token, ()):
            try:
                intents = route.on_bar(bar)
            except Exception:
                self._strategy_failed(route, "bar")
                continue
            for index, intent in enumerate(intents):
                if outputs is _NO_OUTPUTS:
                    outputs = []
                signal = Signal(
                    signal_id=derived_uuid7(
                        event_id,
                        f"signal:{route.name}:{bar.instrument_token}",
                        index,
                        tick.exchange_ts // 1_000_000,
                    ),
                    strategy=route.name,
                    instrument_token=bar.instrument_token,
                    symbol=bar.symbol,
                    side=intent.side,
                    quantity=intent.quantity,
                    order_type=OrderType.MARKET,
                    product=route.product,
                    reference_price=bar.close,
                    signal_ts=tick.exchange_ts,
                    reason=f"{intent.reason} ({bar.interval} bar)",
                )
                outputs.append((route.topic, route.key(bar.instrument_token), route.broker, signal))
                cid = client_order_id(signal.signal_id)
                self.book.sent(route.broker, route.name, bar.instrument_token, cid)
        return outputs

    @staticmethod
    def _add_signals(
        outputs: list[_Output],
        event_id: str,
        tick: Tick,
        route: _Route,
        intents: Sequence[SignalIntent],
    ) -> None:
        """One ``Signal`` per intent; its id derives from the tick's id, the strategy and
        the intent's index, so a replayed tick gives the same ids."""
        for index, intent in enumerate(intents):
            signal = Signal(
                signal_id=derived_uuid7(
                    event_id, f"signal:{route.name}", index, tick.exchange_ts // 1_000_000
                ),
                strategy=route.name,
                instrument_token=tick.instrument_token,
                symbol=tick.symbol,
                side=intent.side,
                quantity=intent.quantity,
                order_type=OrderType.MARKET,
                product=route.product,
                reference_price=tick.last_price,
                signal_ts=tick.exchange_ts,
                reason=intent.reason,
            )
            key = route.key(tick.instrument_token)
            outputs.append((route.topic, key, route.broker, signal))

    def _remember(self, event_id: str, outputs: list[_Output]) -> None:
        recent = self._recent
        recent[event_id] = outputs
        if len(recent) > self._replay_window:
            del recent[next(iter(recent))]
