"""The ticket's field checks and confirmation text: what the trader is told before sending."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.records import Instrument
from engine.events.types import OrderType, Product, Side
from engine.execution.charges import ChargesModel
from engine.instruments import load_default_registry
from screens.order_ticket_form import (
    TicketFields,
    confirmation_text,
    matching_keys,
    order_value,
    read_fields,
    resolve,
)

REGISTRY = load_default_registry()
INFY = REGISTRY.by_key("NSE:INFY")
NIFTY_FUT = Instrument(
    instrument_token=9_000_001,
    exchange_token=1,
    tradingsymbol="NIFTY25JANFUT",
    name="NIFTY",
    exchange="NFO",
    segment="NFO-FUT",
    instrument_type="FUT",
    tick_size=Decimal("0.05"),
    lot_size=75,
)
BAND = Decimal("5")


def _read(instrument: Instrument | None, last: str | None = "1580.25", **typed: object):
    fields = TicketFields(**{"side": Side.BUY, "symbol": "INFY", "quantity": "1", **typed})  # type: ignore[arg-type]
    return read_fields(
        fields, instrument, last_price=Decimal(last) if last else None, band_pct=BAND
    )


def test_the_search_offers_symbols_that_start_with_the_text_first_and_never_an_index() -> None:
    assert matching_keys(REGISTRY, "in")[:2] == ["NSE:INDUSINDBK", "NSE:INFY"]
    assert matching_keys(REGISTRY, "ind")[:2] == ["NSE:INDUSINDBK", "NSE:COALINDIA"]
    assert "NSE:NIFTY 50" not in matching_keys(REGISTRY, "nifty")  # lot size 0: no orders
    assert matching_keys(REGISTRY, "") == []


def test_a_partly_typed_symbol_resolves_only_when_one_instrument_matches() -> None:
    assert resolve("infy", REGISTRY.get, matching_keys(REGISTRY, "infy")) is INFY
    assert resolve("IN", REGISTRY.get, matching_keys(REGISTRY, "IN")) is None


def test_quantity_in_lots_shows_the_resulting_quantity() -> None:
    draft = _read(NIFTY_FUT, last=None, symbol="NFO:NIFTY25JANFUT", quantity="2")
    assert draft.quantity_note == "2 lot(s) × 75 = 150"
    assert draft.ticket is not None and draft.ticket.quantity == 150


def test_a_limit_price_off_the_tick_grid_is_named() -> None:
    draft = _read(INFY, order_type=OrderType.LIMIT, price="1580.23")
    assert draft.ticket is None
    assert draft.problems == ["price 1580.23 is not a multiple of the tick size 0.05"]


def test_a_price_outside_the_band_is_named_with_the_last_price() -> None:
    draft = _read(INFY, order_type=OrderType.LIMIT, price="1700.00")
    assert draft.ticket is None
    assert "from last price 1580.25 (band ±5%)" in draft.problems[0]


def test_an_sl_order_needs_both_prices_and_sl_m_only_the_trigger() -> None:
    assert _read(INFY, order_type=OrderType.SL, price="1570").problems == [
        "a SL order needs a trigger price"
    ]
    draft = _read(INFY, order_type=OrderType.SL_M, trigger="1570.05")
    assert draft.ticket is not None and draft.ticket.price is None


def test_an_unknown_instrument_and_no_quantity_are_both_said() -> None:
    draft = _read(None, symbol="XYZ", quantity="")
    assert draft.problems == ["choose XYZ from the instruments", "type the quantity"]


def test_the_confirmation_names_what_will_be_sent_with_value_and_charges() -> None:
    draft = _read(INFY, order_type=OrderType.LIMIT, price="1580.00", quantity="10")
    assert draft.ticket is not None
    text = confirmation_text(draft.ticket, Decimal("1580.25")).splitlines()
    assert text[:3] == ["BUY 10 NSE:INFY", "LIMIT · MIS · DAY", "Price 1580.00"]
    charges = ChargesModel().compute(Side.BUY, 10, Decimal("1580.00"), Product.MIS).total
    assert text[3] == f"Value ₹15,800.00 · est. charges ₹{charges:,}"


def test_a_market_order_without_a_last_price_says_its_value_is_unknown() -> None:
    draft = _read(INFY, last=None)
    assert draft.ticket is not None
    assert "Value: unknown (no last price yet)" in confirmation_text(draft.ticket, None)


@given(
    lots=st.integers(min_value=1, max_value=10_000),
    ticks=st.integers(min_value=1, max_value=2_000_000),
)
def test_an_on_grid_limit_is_valued_exactly_at_price_times_quantity(lots: int, ticks: int) -> None:
    price = Decimal("0.05") * ticks
    fields = TicketFields(
        side=Side.SELL,
        symbol="NFO:NIFTY25JANFUT",
        quantity=str(lots),
        order_type=OrderType.LIMIT,
        price=str(price),
    )
    draft = read_fields(fields, NIFTY_FUT, last_price=None, band_pct=BAND)
    assert draft.ticket is not None, draft.problems
    assert draft.ticket.quantity == lots * 75
    assert order_value(draft.ticket, None) == price * lots * 75
