"""The order ticket's fields read into an ``OrderTicket``: what is wrong, said as you type.

Pure (no widgets) so the money math is tested on its own: quantity in lots where the
lot size is not 1, price and trigger on the tick grid and inside the price band when the
last price is known, and the confirmation text with the order's value and charges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from engine.domain.records import Instrument
from engine.events.types import OrderType, Product, Side, Validity
from engine.execution.charges import ChargesModel, to_paise
from engine.instruments.registry import effective_tick
from engine.trading_state.manual import OrderTicket, instrument_key, ticket_problem

MAX_MATCHES = 5
NEEDS_PRICE = (OrderType.LIMIT, OrderType.SL)
NEEDS_TRIGGER = (OrderType.SL, OrderType.SL_M)
Lookup = Callable[[str], Instrument | None]


@dataclass(frozen=True, slots=True)
class TicketFields:
    """What the trader typed or toggled, as text."""

    side: Side
    symbol: str
    quantity: str
    order_type: OrderType = OrderType.MARKET
    product: Product = Product.MIS
    validity: Validity = Validity.DAY
    price: str = ""
    trigger: str = ""


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """The ticket as far as it reads: ``ticket`` only when nothing is wrong."""

    instrument: Instrument | None
    quantity: int | None
    quantity_note: str
    problems: list[str] = field(default_factory=list)
    ticket: OrderTicket | None = None


def matching_keys(instruments: Iterable[Instrument], text: str) -> list[str]:
    """Tradable ``EXCHANGE:SYMBOL`` keys containing ``text``; prefixes of the symbol first."""
    needle = text.strip().upper()
    if not needle:
        return []
    found: list[tuple[int, str]] = []
    for instrument in instruments:
        if instrument.lot_size <= 0:
            continue  # indices: no orders
        key = instrument.key
        if needle in key:
            rank = 0 if instrument.tradingsymbol.startswith(needle.split(":")[-1]) else 1
            found.append((rank, key))
    return [key for _, key in sorted(found)[:MAX_MATCHES]]


def resolve(text: str, lookup: Lookup, matches: list[str]) -> Instrument | None:
    """The instrument typed, or the only one matching what was typed so far."""
    if not text.strip():
        return None
    exact = lookup(instrument_key(text))
    if exact is not None:
        return exact
    return lookup(matches[0]) if len(matches) == 1 else None


def _decimal(text: str, name: str, problems: list[str]) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        problems.append(f"{name} {text.strip()!r} is not a number")
        return None
    if not value.is_finite() or value <= 0:
        problems.append(f"{name} must be a positive number")
        return None
    return value


def _price_problem(
    name: str, price: Decimal, instrument: Instrument, last: Decimal | None, band: Decimal | None
) -> str | None:
    tick = effective_tick(instrument)
    if price % tick:
        return f"{name} {price} is not a multiple of the tick size {tick}"
    if last is not None and last > 0 and band is not None:
        deviation = abs(price - last) / last * 100
        if deviation > band:
            return f"{name} {price} is {deviation:.2f}% from last price {last} (band ±{band}%)"
    return None


def read_fields(
    fields: TicketFields,
    instrument: Instrument | None,
    *,
    last_price: Decimal | None,
    band_pct: Decimal | None,
) -> TicketDraft:
    """Every problem with the fields at once, in the order the trader meets them."""
    problems: list[str] = []
    if instrument is None:
        what = fields.symbol.strip() or "an instrument"
        problems.append(f"choose {what} from the instruments" if fields.symbol else "type a symbol")
    quantity, note = _quantity(fields.quantity, instrument, problems)
    price = trigger = None
    if fields.order_type in NEEDS_PRICE:
        price = _decimal(fields.price, "price", problems) if fields.price.strip() else None
        if price is None and not fields.price.strip():
            problems.append(f"a {fields.order_type.value} order needs a price")
    if fields.order_type in NEEDS_TRIGGER:
        trigger = _decimal(fields.trigger, "trigger", problems) if fields.trigger.strip() else None
        if trigger is None and not fields.trigger.strip():
            problems.append(f"a {fields.order_type.value} order needs a trigger price")
    if instrument is not None:
        for name, value in (("price", price), ("trigger", trigger)):
            if value is not None and (
                p := _price_problem(name, value, instrument, last_price, band_pct)
            ):
                problems.append(p)
    if problems or instrument is None or quantity is None:
        return TicketDraft(instrument, quantity, note, problems)
    ticket = OrderTicket(
        side=fields.side,
        symbol=instrument.key,
        quantity=quantity,
        order_type=fields.order_type,
        product=fields.product,
        validity=fields.validity,
        price=price,
        trigger_price=trigger,
    )
    problem = ticket_problem(ticket, instrument)  # the engine's own check, said here first
    if problem is not None:
        return TicketDraft(instrument, quantity, note, [problem])
    return TicketDraft(instrument, quantity, note, [], ticket)


def _quantity(
    text: str, instrument: Instrument | None, problems: list[str]
) -> tuple[int | None, str]:
    """Shares, or lots where the lot size is not 1; the note says the resulting quantity."""
    lot = instrument.lot_size if instrument is not None else 1
    unit = "lots" if lot > 1 else "quantity"
    if not text.strip():
        problems.append(f"type the {unit}")
        return None, ""
    if not text.strip().isdigit() or int(text) <= 0:
        problems.append(f"{unit} must be a whole number above 0")
        return None, ""
    count = int(text)
    if lot > 1:
        return count * lot, f"{count} lot(s) × {lot} = {count * lot}"
    return count, f"{count} share(s)"


def order_value(ticket: OrderTicket, last_price: Decimal | None) -> Decimal | None:
    """At the limit price, else the trigger, else the last price (MARKET); None unknown."""
    price = ticket.price or ticket.trigger_price or last_price
    return None if price is None else to_paise(price * ticket.quantity)


def confirmation_text(
    ticket: OrderTicket, last_price: Decimal | None, charges: ChargesModel | None = None
) -> str:
    """Exactly what will be sent, its value and the estimated charges."""
    lines = [
        f"{ticket.side.value} {ticket.quantity} {ticket.symbol}",
        f"{ticket.order_type.value} · {ticket.product.value} · {ticket.validity.value}",
    ]
    if ticket.price is not None:
        lines.append(f"Price {ticket.price}")
    if ticket.trigger_price is not None:
        lines.append(f"Trigger {ticket.trigger_price}")
    value = order_value(ticket, last_price)
    if value is None:
        lines.append("Value: unknown (no last price yet)")
    else:
        price = value / ticket.quantity
        estimate = (charges or ChargesModel()).compute(
            ticket.side, ticket.quantity, price, ticket.product
        )
        at_market = ticket.price is None and ticket.trigger_price is None
        at_market_note = " at last price" if at_market else ""
        lines.append(f"Value ₹{value:,}{at_market_note} · est. charges ₹{estimate.total:,}")
    lines.append("Strategy: manual")
    return "\n".join(lines)
