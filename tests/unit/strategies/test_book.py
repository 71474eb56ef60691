"""A strategy's intent follows its fills, whatever order the pipeline's events arrive in."""

from __future__ import annotations

from engine.events.payloads import OrderUpdate
from engine.events.types import Broker, OrderStatus, OrderType, Product, Side
from engine.strategies import EmaCross
from engine.strategies.base import Position
from engine.strategies.book import StrategyBook
from engine.strategies.params import EmaCrossParams

TOKEN = 738561


def _book() -> tuple[EmaCross, StrategyBook]:
    strategy = EmaCross("ema", EmaCrossParams(fast=2, slow=4, quantity=10))
    return strategy, StrategyBook({(Broker.PAPER, "ema"): strategy})


def _update(cid: str, side: Side, status: OrderStatus, filled: int) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=cid,
        strategy="ema",
        broker=Broker.PAPER,
        instrument_token=TOKEN,
        symbol="NSE:RELIANCE",
        side=side,
        quantity=10,
        order_type=OrderType.MARKET,
        product=Product.MIS,
        status=status,
        filled_quantity=filled,
    )


def test_a_late_fill_of_the_entry_does_not_bring_back_the_long_after_the_exit() -> None:
    """The backtest's case: the exit was wished before the entry's fill was read."""
    strategy, book = _book()
    strategy.sync(TOKEN, 0)
    strategy._state(TOKEN).position = Position.LONG  # wished LONG
    book.sent(Broker.PAPER, "ema", TOKEN, "buy")
    strategy._state(TOKEN).position = Position.FLAT  # then wished FLAT
    book.sent(Broker.PAPER, "ema", TOKEN, "sell")

    book.order_event(_update("buy", Side.BUY, OrderStatus.FILLED, 10))  # read late

    assert book.held(Broker.PAPER, "ema", TOKEN) == 10
    assert strategy.position(TOKEN).name == "FLAT"  # the exit is still in flight

    book.order_event(_update("sell", Side.SELL, OrderStatus.FILLED, 10))
    book.order_event(_update("buy", Side.BUY, OrderStatus.FILLED, 10))  # redelivered

    assert book.held(Broker.PAPER, "ema", TOKEN) == 0
    assert strategy.position(TOKEN).name == "FLAT"
    assert book.in_flight(Broker.PAPER, "ema", TOKEN) == 0


def test_a_cancel_after_a_partial_fill_leaves_the_strategy_holding_the_part() -> None:
    strategy, book = _book()
    strategy._state(TOKEN).position = Position.LONG
    book.sent(Broker.PAPER, "ema", TOKEN, "buy")

    book.order_event(_update("buy", Side.BUY, OrderStatus.PARTIALLY_FILLED, 4))
    book.order_event(_update("buy", Side.BUY, OrderStatus.CANCELLED, 4))

    assert book.held(Broker.PAPER, "ema", TOKEN) == 4
    assert strategy.position(TOKEN).name == "LONG"


def test_a_rejected_entry_settles_flat_and_is_not_wished_again() -> None:
    strategy, book = _book()
    strategy._state(TOKEN).position = Position.LONG
    book.sent(Broker.PAPER, "ema", TOKEN, "buy")

    book.rejected(Broker.PAPER, "ema", TOKEN, "buy")

    assert strategy.position(TOKEN).name == "FLAT"
    assert strategy._state(TOKEN).refused is Position.LONG


def test_an_exit_refused_while_the_entry_was_working_is_wished_again_once_it_fills() -> None:
    """Risk counts the working entry at its worst (it may be cancelled), so the exit is
    refused; once the entry has filled the exit must still go, not be forgotten."""
    strategy, book = _book()
    strategy._state(TOKEN).position = Position.LONG
    book.sent(Broker.PAPER, "ema", TOKEN, "buy")
    strategy._state(TOKEN).position = Position.FLAT  # the cross down, before the fill
    book.sent(Broker.PAPER, "ema", TOKEN, "sell")

    book.rejected(Broker.PAPER, "ema", TOKEN, "sell", "strategy_position")
    book.order_event(_update("buy", Side.BUY, OrderStatus.FILLED, 10))

    assert strategy.position(TOKEN) is Position.LONG  # what is held
    assert strategy._state(TOKEN).refused is None  # so FLAT is wished again next tick


def test_a_refusal_for_another_rule_is_not_retried() -> None:
    strategy, book = _book()
    strategy._state(TOKEN).position = Position.LONG
    book.sent(Broker.PAPER, "ema", TOKEN, "buy")

    book.rejected(Broker.PAPER, "ema", TOKEN, "buy", "trading_state")

    assert strategy._state(TOKEN).refused is Position.LONG
