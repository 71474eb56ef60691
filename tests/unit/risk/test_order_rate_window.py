"""The order-rate window counts like a plain scan over the last two seconds of signals."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.events.payloads import Signal
from engine.events.types import OrderType, Product, Side
from engine.risk.state import RiskState

NS = 1_000_000_000


def _signal(n: int, ts: int) -> Signal:
    return Signal(
        signal_id=f"sig-{n}",
        strategy="momo",
        instrument_token=408065,
        symbol="NSE:INFY",
        side=Side.BUY,
        quantity=1,
        order_type=OrderType.MARKET,
        product=Product.MIS,
        signal_ts=ts,
    )


@given(
    st.lists(st.integers(min_value=0, max_value=5 * NS), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=NS),
)
def test_count_equals_a_scan_of_the_recent_signals(times: list[int], window: int) -> None:
    state = RiskState()
    for n, ts in enumerate(times):
        state.record_validated(_signal(n, ts))
    newest = max(times)
    kept = [t for t in times if t >= newest - 2 * NS]
    for now in (newest, newest - window // 2, newest + window):
        expected = sum(1 for t in kept if now - window < t <= now)
        assert state.orders_in_window(now, window) == expected
