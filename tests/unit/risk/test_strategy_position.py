"""Risk keeps every strategy within its size and sign, whatever the strategy asks for."""

from __future__ import annotations

from engine.events.payloads import Signal
from engine.events.types import OrderStatus, Side
from engine.memory_store import MemoryTradingStore
from engine.risk import RiskLimits
from engine.risk.limits import StrategyPositionLimit
from tests.unit.risk.conftest import StartRisk
from tests.unit.risk.harness import RiskHarness, limits, make_signal, working_order

LONG_ONLY = limits(strategy_positions={"ema": StrategyPositionLimit(10)})
BOTH_WAYS = limits(strategy_positions={"ema": StrategyPositionLimit(10, allow_short=True)})


async def test_a_second_entry_while_the_first_is_working_is_refused(start_risk: StartRisk) -> None:
    risk = await start_risk(LONG_ONLY)

    assert (await risk.submit(quantity=10)).accepted
    stacked = await risk.submit(quantity=10)

    assert stacked.rule == "strategy_position"
    assert stacked.reason == (
        "ema holds +0, +10 working NSE:INFY: BUY 10 would make it +20, beyond its size 10"
    )


async def test_an_entry_on_top_of_a_filled_position_is_refused(start_risk: StartRisk) -> None:
    """What a restart that forgot the position used to send."""
    risk = await start_risk(LONG_ONLY)
    await risk.position(net=10, average="1500")

    stacked = await risk.submit(quantity=10)

    assert stacked.rule == "strategy_position" and "+20" in stacked.reason
    assert (await risk.submit(side=Side.SELL, quantity=10)).accepted  # the exit still goes


async def test_a_long_only_strategy_may_not_sell_past_flat(start_risk: StartRisk) -> None:
    risk = await start_risk(LONG_ONLY)
    await risk.position(net=5, average="1500")  # a partial fill: holds less than its size

    flip = await risk.submit(side=Side.SELL, quantity=10)

    assert flip.rule == "strategy_position"
    assert "short -5" in flip.reason and "allow_short: false" in flip.reason
    assert (await risk.submit(side=Side.SELL, quantity=5)).accepted


async def test_a_strategy_that_may_short_reverses_but_never_beyond_its_size(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(BOTH_WAYS)
    await risk.position(net=10, average="1500")

    assert (await risk.submit(side=Side.SELL, quantity=10)).accepted  # exit long
    assert (await risk.submit(side=Side.SELL, quantity=10)).accepted  # enter short
    beyond = await risk.submit(side=Side.SELL, quantity=10)

    assert beyond.rule == "strategy_position" and "-20" in beyond.reason


async def test_a_refused_order_frees_its_room(start_risk: StartRisk) -> None:
    risk = await start_risk(LONG_ONLY)
    first = make_signal(quantity=10)
    await risk.send(first)
    assert (await risk.verdict(first)).accepted

    await risk.order_event(first, OrderStatus.REJECTED, reason="venue said no")

    assert (await risk.submit(quantity=10)).accepted


async def test_strategies_without_a_limit_and_other_strategies_are_not_limited(
    start_risk: StartRisk,
) -> None:
    risk = await start_risk(LONG_ONLY)
    await risk.position(net=10, average="1500", strategy="manual")

    assert (await risk.submit(strategy="manual", quantity=500)).accepted
    assert (await risk.submit(quantity=10)).accepted  # ema's own book is flat


async def test_a_fill_counts_the_moment_its_order_ends_before_the_position_arrives(
    start_risk: StartRisk,
) -> None:
    """FILLED and POSITION_UPDATED travel on different topics: between the two, the
    quantity must be counted once, so an exit passes and a second entry does not."""
    risk = await start_risk(LONG_ONLY)
    entry = make_signal(quantity=10)
    await risk.send(entry)
    assert (await risk.verdict(entry)).accepted

    await risk.order_event(entry, OrderStatus.FILLED, filled=10)  # no position yet

    assert (await risk.submit(quantity=10)).rule == "strategy_position"
    assert (await risk.submit(side=Side.SELL, quantity=10)).accepted


async def test_a_redelivered_fill_is_not_counted_twice(start_risk: StartRisk) -> None:
    risk = await start_risk(LONG_ONLY)
    entry = make_signal(quantity=5)
    await risk.send(entry)
    await risk.verdict(entry)

    await risk.order_event(entry, OrderStatus.PARTIALLY_FILLED, filled=5)
    await risk.order_event(entry, OrderStatus.PARTIALLY_FILLED, filled=5)  # again

    assert (await risk.submit(quantity=5)).accepted  # 5 held + 5 = its size 10


async def _restarted(
    start_risk: StartRisk, order: Signal, strategy_limits: RiskLimits, **options: bool
) -> RiskHarness:
    """Risk started over a store holding ``order`` working at the venue."""
    store = MemoryTradingStore()
    await store.insert_order(working_order(order))
    return await start_risk(strategy_limits, store=store, **options)


async def test_a_restarted_paper_risk_does_not_count_the_orders_its_venue_lost(
    start_risk: StartRisk,
) -> None:
    """A restarted paper session cancels every working order: a stale SELL of the last
    session must not make room for a BUY beyond the strategy's size (found by SIGKILL)."""
    stale = make_signal(side=Side.SELL, quantity=10)

    paper = await _restarted(start_risk, stale, BOTH_WAYS, restores_working=False)
    assert (await paper.submit(quantity=20)).rule == "strategy_position"


async def test_a_restarted_live_risk_counts_the_orders_still_working_at_the_venue(
    start_risk: StartRisk,
) -> None:
    working = make_signal(quantity=10)

    live = await _restarted(start_risk, working, LONG_ONLY)
    assert (await live.submit(quantity=10)).rule == "strategy_position"  # +10 working


async def test_a_second_exit_never_passes_as_reducing_on_the_room_of_a_restored_entry(
    start_risk: StartRisk,
) -> None:
    """Found by SIGKILL (seed 1208): long 7 with a restored BUY still listed working, one
    exit sent, then a second exit was let through as 'reducing' because the restored BUY
    offset the first; the BUY was never filled and the long-only strategy ended -7."""
    restored_entry = make_signal(quantity=10)
    risk = await _restarted(start_risk, restored_entry, LONG_ONLY)
    await risk.position(net=10, average="1500")

    assert (await risk.submit(side=Side.SELL, quantity=10)).accepted  # the exit
    second = await risk.submit(side=Side.SELL, quantity=10)

    assert second.rule == "strategy_position" and "short" in second.reason
