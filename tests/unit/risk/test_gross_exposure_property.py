"""The gross exposure rule against its definition, over any book risk can hold.

Gross exposure is the sum over instruments of |net position + working orders| at the
instrument's mark (nothing without a mark); for the signal's instrument the order is
added and priced at the order's price when there is no mark. A signal is refused when
that sum would pass the limit and grow. The rule reads the book in one pass; this
checks it refuses exactly what the definition refuses, with the same figures.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events.types import Broker, Side
from engine.risk import RiskLimits
from engine.risk.rules import RuleContext, check_gross_exposure, rupees
from engine.risk.state import OpenOrder, Position, RiskState
from engine.trading_state import TradingState
from tests.unit.risk.harness import INFY, RELIANCE, TCS, make_signal

TOKENS = (INFY, TCS, RELIANCE)
STRATEGIES = ("ema", "rsi")
prices = st.decimals(min_value=Decimal("0.05"), max_value=Decimal(20_000), places=2)
nets = st.integers(min_value=-500, max_value=500)


@st.composite
def books(draw: st.DrawFn) -> RiskState:
    state = RiskState()
    for token in TOKENS:
        if draw(st.booleans()):
            state.last_prices[token] = draw(prices)
        for strategy in STRATEGIES:
            if draw(st.booleans()):
                last = draw(st.none() | prices)
                state.positions[(strategy, token)] = Position(draw(nets), draw(prices), last)
    for number in range(draw(st.integers(min_value=0, max_value=4))):
        quantity = draw(st.integers(min_value=1, max_value=300))
        state.open_orders[f"o{number}"] = OpenOrder(
            strategy=draw(st.sampled_from(STRATEGIES)),
            instrument_token=draw(st.sampled_from(TOKENS)),
            side=draw(st.sampled_from(Side)),
            quantity=quantity,
            filled=draw(st.integers(min_value=0, max_value=quantity)),
        )
    return state


def gross(state: RiskState, extra: dict[int, tuple[int, Decimal | None]]) -> Decimal:
    """The definition, instrument by instrument; ``extra``: the order added, its price."""
    total = Decimal(0)
    for token in TOKENS:
        added, order_price = extra.get(token, (0, None))
        net = state.instrument_net(token) + state.working_net(token) + added
        price = state.mark_price(token) or order_price or Decimal(0)
        total += abs(net) * price
    return total


@settings(max_examples=300, deadline=None)
@given(
    state=books(),
    token=st.sampled_from(TOKENS),
    side=st.sampled_from(Side),
    quantity=st.integers(min_value=1, max_value=300),
    limit_price=st.none() | prices,
    limit=st.decimals(min_value=Decimal(1), max_value=Decimal(20_000_000), places=0),
)
def test_refuses_exactly_what_the_definition_refuses(
    state: RiskState,
    token: int,
    side: Side,
    quantity: int,
    limit_price: Decimal | None,
    limit: Decimal,
) -> None:
    signal = make_signal(token=token, side=side, quantity=quantity, price=limit_price)
    ctx = RuleContext(
        limits=RiskLimits(max_gross_exposure=limit),
        state=state,
        trading=TradingState(Broker.PAPER),
        is_known=lambda _: True,
    )
    order_price = limit_price or signal.reference_price
    now = gross(state, {})
    projected = gross(state, {token: (side.sign * quantity, order_price)})

    rejection = check_gross_exposure(signal, ctx)

    if projected <= limit or projected <= now:
        assert rejection is None
    else:
        assert rejection is not None
        assert rejection.rule == "max_gross_exposure"
        assert f"would be {rupees(projected)} (now {rupees(now)}" in rejection.reason
