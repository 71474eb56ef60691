"""The order-rate window counts like a plain scan over the last two seconds of signals."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.risk.state import RiskState
from tests.unit.risk.harness import make_signal

NS = 1_000_000_000


@given(
    st.lists(st.integers(min_value=0, max_value=5 * NS), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=NS),
)
def test_count_equals_a_scan_of_the_recent_signals(times: list[int], window: int) -> None:
    state = RiskState()
    for n, ts in enumerate(times):
        state.record_validated(make_signal(signal_id=f"sig-{n}", signal_ts=ts))
    newest = max(times)
    kept = [t for t in times if t >= newest - 2 * NS]
    for now in (newest, newest - window // 2, newest + window):
        expected = sum(1 for t in kept if now - window < t <= now)
        assert state.orders_in_window(now, window) == expected
