"""Each strategy signals on the price shapes it is built for, once per change of mind."""

from __future__ import annotations

from engine.events.types import Side
from engine.strategies import EmaCross, MeanReversion, Momentum, Rsi
from engine.strategies.params import (
    EmaCrossParams,
    MeanReversionParams,
    MomentumParams,
    RsiParams,
)
from engine.strategies.rsi import wilder_rsi
from tests.unit.strategies.support import inverted_v, run, sides, tick, ticks, v_shape


def _ema(allow_short: bool = False) -> EmaCross:
    return EmaCross("ema", EmaCrossParams(fast=3, slow=8, quantity=10, allow_short=allow_short))


def test_ema_cross_buys_once_on_the_way_up_of_a_v() -> None:
    prices = v_shape(depth=30)
    signals = run(_ema(), ticks(prices))

    assert sides(signals) == ["BUY"]
    index, _, intent = signals[0]
    assert 30 <= index < 40  # after the bottom (index 29), within a few ticks
    assert intent.quantity == 10 and "crossed up" in intent.reason


def test_ema_cross_goes_flat_then_short_only_when_shorting_is_allowed() -> None:
    prices = v_shape(depth=30) + inverted_v(depth=30, start=230.0)[1:]
    assert sides(run(_ema(), ticks(prices))) == ["BUY", "SELL"]

    reversals = run(_ema(allow_short=True), ticks(prices))
    assert sides(reversals) == ["BUY", "SELL", "SELL"]
    assert reversals[1][2].reason.startswith("exit long")
    assert reversals[2][2].reason.startswith("enter short")
    assert reversals[1][0] == reversals[2][0]  # one tick, two intents: exit then entry


def test_ema_cross_is_silent_during_warm_up_and_while_trend_persists() -> None:
    assert run(_ema(), ticks([100.0 + i for i in range(200)])) == []


def test_momentum_buys_a_breakout_and_exits_a_breakdown() -> None:
    strategy = Momentum("mom", MomentumParams(lookback=5, threshold=0.015, quantity=1))
    prices = [100.0] * 10 + [101.0, 102.0, 103.0] + [103.0] * 10 + [101.0, 100.0, 99.0]
    signals = run(strategy, ticks(prices))

    assert sides(signals) == ["BUY", "SELL"]
    assert signals[0][0] == 11  # 102 / 100 - 1 = 2% > 1.5% over 5 ticks
    assert signals[1][0] == 23  # 101 / 103 - 1 = -1.9%


def test_mean_reversion_buys_a_dip_and_sells_back_at_the_mean() -> None:
    strategy = MeanReversion(
        "mr", MeanReversionParams(window=20, entry_z=2.0, exit_z=0.0, quantity=5)
    )
    calm = [100.0 + (0.5 if i % 2 else -0.5) for i in range(30)]
    prices = [*calm, 97.0, 97.5, *calm]
    signals = run(strategy, ticks(prices))

    assert sides(signals) == ["BUY", "SELL"]
    assert signals[0][0] == 30
    assert signals[1][0] > 31 and "back to the mean" in signals[1][2].reason


def test_rsi_buys_oversold_and_sells_overbought() -> None:
    strategy = Rsi("rsi", RsiParams(period=5, oversold=30, overbought=70, quantity=1))
    prices = [100.0 - i for i in range(12)] + [89.0 + i for i in range(1, 15)]
    signals = run(strategy, ticks(prices))

    assert sides(signals) == ["BUY", "SELL"]
    assert signals[0][0] == 5  # first reading (after 5 changes) is 0: oversold
    assert "overbought" in signals[1][2].reason


def test_wilder_rsi_edges() -> None:
    assert wilder_rsi(1.0, 1.0) == 50.0
    assert wilder_rsi(0.0, 0.0) == 50.0
    assert wilder_rsi(2.0, 0.0) == 100.0
    assert round(wilder_rsi(3.0, 1.0), 6) == 75.0


def test_interleaved_instruments_give_the_same_signals_as_separate_runs() -> None:
    reliance = ticks(v_shape(depth=25), "NSE:RELIANCE")
    infy = ticks(inverted_v(depth=25, start=1500.0, step=3.0), "NSE:INFY")
    for make in (
        lambda: _ema(allow_short=True),
        lambda: Momentum("m", MomentumParams(lookback=4, threshold=0.005)),
        lambda: MeanReversion("z", MeanReversionParams(window=8, entry_z=1.5)),
        lambda: Rsi("r", RsiParams(period=4)),
    ):
        alone = [(s, i.side, i.reason) for _, s, i in run(make(), reliance) + run(make(), infy)]
        mixed_feed = [t for pair in zip(reliance, infy, strict=True) for t in pair]
        mixed = [(s, i.side, i.reason) for _, s, i in run(make(), mixed_feed)]
        assert sorted(mixed) == sorted(alone)
        assert [m for m in mixed if m[0] == "NSE:INFY"] == [a for a in alone if a[0] == "NSE:INFY"]
        assert alone  # each strategy did trade on these shapes


def test_state_stays_bounded_over_a_long_session() -> None:
    momentum = Momentum("m", MomentumParams(lookback=10))
    reversion = MeanReversion("z", MeanReversionParams(window=15))
    for seq in range(5_000):
        price = 100.0 + (seq % 37) * 0.05
        momentum.on_tick(tick(price, seq=seq))
        reversion.on_tick(tick(price, seq=seq))
    assert len(momentum._states[738561].prices) == 11
    assert len(reversion._states[738561].window) == 15


def test_intended_position_is_visible_per_instrument() -> None:
    strategy = _ema()
    run(strategy, ticks(v_shape(depth=30)))
    assert strategy.position(738561).name == "LONG"
    assert strategy.position(408065).name == "FLAT"
    assert strategy.positions() == {738561: strategy.position(738561)}
    assert Side.BUY.sign == 1


def test_a_strategy_restored_long_exits_instead_of_buying_again() -> None:
    """After a restart the portfolio says LONG: the next cross up is no new entry."""
    strategy = _ema()
    strategy.sync(738561, 10)
    prices = v_shape(depth=30) + inverted_v(depth=30, start=230.0)[1:]

    signals = run(strategy, ticks(prices))

    assert [(s[2].side.value, s[2].quantity) for s in signals] == [("SELL", 10)]


def test_an_exit_sells_what_was_filled_not_the_strategy_size() -> None:
    strategy = _ema()
    run(strategy, ticks(v_shape(depth=30)))  # wished LONG 10
    strategy.sync(738561, 4)  # only 4 filled before the rest was cancelled

    exit_ = run(strategy, ticks(inverted_v(depth=30, start=230.0)))

    assert [(s[2].side.value, s[2].quantity) for s in exit_] == [("SELL", 4)]


def test_a_refused_wish_falls_back_to_what_is_held_and_is_not_repeated_every_tick() -> None:
    strategy = Rsi("rsi", RsiParams(period=3, oversold=40, overbought=60, quantity=5))
    falling = [200.0 - i for i in range(12)]
    first = run(strategy, ticks(falling[:6]))
    assert [s[2].side.value for s in first] == ["BUY"]

    strategy.refuse(738561)  # risk refused it: trading was halted

    assert strategy.position(738561).name == "FLAT"
    assert run(strategy, [tick(p, seq=6 + i) for i, p in enumerate(falling[6:])]) == []


def test_a_refused_wish_is_made_again_once_the_strategy_has_changed_its_mind() -> None:
    strategy = _ema()
    run(strategy, ticks(v_shape(depth=30)))
    strategy.refuse(738561)
    later = v_shape(depth=30) + inverted_v(depth=30, start=230.0)[1:] + v_shape(depth=30)

    signals = run(strategy, [tick(p, seq=100 + i) for i, p in enumerate(later)])

    # the cross down cleared the refusal; the BUY comes at the next cross up, not before
    assert [s[2].side.value for s in signals] == ["BUY", "SELL", "BUY"]
    assert signals[0][0] >= 30
