"""``OrderTicketScreen``: place one order by hand (``b`` buy, ``s`` sell, or the palette).

The instrument is searched in the registry as it is typed; every field is checked as it
changes; Review opens a confirmation naming exactly what will be sent, its value and the
estimated charges, and only its Send sends. A ticket sends at most once (one request id:
the outbox refuses a second send of its client order id). While trading is HALTED the
send is refused in words; risk's verdict (a fill or a rejection with its reason) is shown
in the ticket.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from engine.domain.records import Instrument
from engine.events.types import OrderType, Product, Side, TradingMode, Validity
from engine.read_model import GLOBAL_SCOPE, ReadModel
from engine.risk.limits import RiskLimits
from engine.trading_state.manual import (
    MANUAL_STRATEGY,
    ManualRequestError,
    OrderTicket,
    manual_signal_id,
)
from engine.trading_state.operator import NotRunningError
from screens.confirm import ConfirmScreen
from screens.dialog import Dialog
from screens.order_ticket_form import (
    TicketDraft,
    TicketFields,
    confirmation_text,
    matching_keys,
    read_fields,
    resolve,
)
from widgets.formatting import money

PlaceOrder = Callable[[OrderTicket, str], Awaitable[str]]  # (ticket, request id) → order id
WATCH_S = 0.2
audit_log = logging.getLogger("alphapanda.audit")


T = TypeVar("T")


def _cycle(values: tuple[T, ...], current: T) -> T:
    return values[(values.index(current) + 1) % len(values)]


ORDER_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.SL, OrderType.SL_M)
PRODUCTS = (Product.MIS, Product.CNC, Product.NRML)
VALIDITIES = (Validity.DAY, Validity.IOC)


class OrderTicketScreen(Dialog[None]):
    """One order: fields, review, confirm, send once, then risk's and the venue's answer."""

    DEFAULT_CSS = """
    OrderTicketScreen { align: center middle; background: $background 60%; }
    #ticket { width: 76; max-width: 100%; height: auto; border: thick $accent;
              background: $surface; padding: 0 1; }
    #ticket-title { text-style: bold reverse; width: 100%; content-align: center middle; }
    #ticket Horizontal { height: auto; }
    #ticket Input { width: 1fr; }
    #ticket Button { min-width: 8; margin: 0 1 0 0; }
    #ticket-matches, #ticket-qty-note { color: $text-muted; height: 1; }
    #ticket-problem { color: $error; height: auto; }
    #ticket-status { text-style: bold; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="ticket.close"),
    ]

    def __init__(
        self,
        side: Side,
        *,
        instruments: Iterable[Instrument],
        lookup: Callable[[str], Instrument | None],
        model: ReadModel,
        place: PlaceOrder,
        band_pct: Decimal | None,
    ) -> None:
        super().__init__()
        self.side = side
        self.order_type, self.product, self.validity = OrderType.MARKET, Product.MIS, Validity.DAY
        self._instruments = tuple(instruments)
        self._lookup = lookup
        self._model = model
        self._place = place
        self._band = band_pct
        self.request_id = uuid.uuid4().hex[:16]  # one ticket, one order: never sent twice
        self.draft = TicketDraft(None, None, "", ["type a symbol"])
        self.client_order_id: str | None = None
        self._reviewed: OrderTicket | None = None
        self.sending = False

    def compose(self) -> ComposeResult:
        with Vertical(id="ticket"):
            yield Static("Order ticket", id="ticket-title")
            with Horizontal():
                yield Button(self.side.value, id="ticket-side")
                yield Input(placeholder="Instrument, e.g. INFY", id="ticket-symbol")
            yield Static("", id="ticket-matches")
            with Horizontal():
                yield Input(placeholder="Quantity", id="ticket-quantity", restrict=r"\d*")
                yield Button(self.order_type.value, id="ticket-type")
                yield Button(self.product.value, id="ticket-product")
                yield Button(self.validity.value, id="ticket-validity")
            yield Static("", id="ticket-qty-note")
            with Horizontal():
                yield Input(placeholder="Price", id="ticket-price", restrict=r"[0-9.]*")
                yield Input(placeholder="Trigger", id="ticket-trigger", restrict=r"[0-9.]*")
            yield Static("", id="ticket-problem")
            yield Static("", id="ticket-status")
            with Horizontal():
                yield Button("Review (Enter)", id="ticket-review", variant="primary")
                yield Button("Close (Esc)", id="ticket-close")

    def on_mount(self) -> None:
        self.query_one("#ticket-symbol", Input).focus()
        self._draw()

    # -- reading the fields ----------------------------------------------------------
    def _text(self, name: str) -> str:
        return self.query_one(f"#ticket-{name}", Input).value

    def last_price(self) -> Decimal | None:
        instrument = self.draft.instrument
        return None if instrument is None else self._model.ltp.get(instrument.instrument_token)

    def _draw(self) -> None:
        symbol = self._text("symbol")
        matches = matching_keys(self._instruments, symbol)
        instrument = resolve(symbol, self._lookup, matches)
        last = None if instrument is None else self._model.ltp.get(instrument.instrument_token)
        fields = TicketFields(
            side=self.side,
            symbol=symbol,
            quantity=self._text("quantity"),
            order_type=self.order_type,
            product=self.product,
            validity=self.validity,
            price=self._text("price"),
            trigger=self._text("trigger"),
        )
        self.draft = read_fields(fields, instrument, last_price=last, band_pct=self._band)
        shown = "  ".join(matches) if matches else ("no match" if symbol.strip() else "")
        if instrument is not None:
            lot = f" · lot {instrument.lot_size}" if instrument.lot_size > 1 else ""
            shown = f"{instrument.key} · tick {instrument.tick_size}{lot} · last {last or '-'}"
        self.query_one("#ticket-matches", Static).update(shown)
        self.query_one("#ticket-qty-note", Static).update(self.draft.quantity_note)
        self.query_one("#ticket-problem", Static).update("\n".join(self.draft.problems[:2]))
        self.query_one("#ticket-price", Input).disabled = self.order_type not in (
            OrderType.LIMIT,
            OrderType.SL,
        )
        self.query_one("#ticket-trigger", Input).disabled = self.order_type not in (
            OrderType.SL,
            OrderType.SL_M,
        )
        self.query_one("#ticket-review", Button).disabled = self.sent

    @property
    def sent(self) -> bool:
        return self.sending or self.client_order_id is not None

    @on(Input.Changed)
    def _changed(self) -> None:
        self._draw()

    @on(Button.Pressed, "#ticket-side")
    def _toggle_side(self, event: Button.Pressed) -> None:
        self.side = Side.SELL if self.side is Side.BUY else Side.BUY
        event.button.label = self.side.value
        self._draw()

    @on(Button.Pressed, "#ticket-type")
    def _toggle_type(self, event: Button.Pressed) -> None:
        self.order_type = _cycle(ORDER_TYPES, self.order_type)
        event.button.label = self.order_type.value
        self._draw()

    @on(Button.Pressed, "#ticket-product")
    def _toggle_product(self, event: Button.Pressed) -> None:
        self.product = _cycle(PRODUCTS, self.product)
        event.button.label = self.product.value
        self._draw()

    @on(Button.Pressed, "#ticket-validity")
    def _toggle_validity(self, event: Button.Pressed) -> None:
        self.validity = _cycle(VALIDITIES, self.validity)
        event.button.label = self.validity.value
        self._draw()

    # -- review, confirm, send once -----------------------------------------------------
    def halted_reason(self) -> str | None:
        """Why nothing may be sent now (HALTED, globally or for manual orders)."""
        if self._model.effective_state(MANUAL_STRATEGY) is not TradingMode.HALTED:
            return None
        why = self._model.trading_reasons.get(GLOBAL_SCOPE) or next(
            iter(self._model.trading_reasons.values()), ""
        )
        return f"Trading is HALTED{f' ({why})' if why else ''}: nothing sent."

    def _status(self, text: str) -> None:
        self.query_one("#ticket-status", Static).update(text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ticket-review")
    def review(self) -> None:
        self._draw()
        if self.sent:
            return
        ticket = self.draft.ticket
        if ticket is None:
            self._status("Fix the ticket first: " + "; ".join(self.draft.problems[:1]))
            return
        if (halted := self.halted_reason()) is not None:
            self._status(halted)
            return
        self._reviewed = ticket  # what the confirmation names is exactly what Send sends
        text = confirmation_text(ticket, self.last_price())
        title = f"Send this {ticket.side.value} order?"
        self.app.push_screen(ConfirmScreen(title, text, "Send"), self._confirmed)

    async def _confirmed(self, confirmed: bool | None) -> None:
        ticket = self._reviewed
        if not confirmed or ticket is None or self.sent:
            self._status("Not sent.")
            return
        if (halted := self.halted_reason()) is not None:  # the kill switch may have come since
            self._status(halted)
            return
        self.sending = True
        self._draw()
        try:
            coid = await self._place(ticket, self.request_id)
        except (ManualRequestError, NotRunningError) as exc:  # said in the ticket, no crash
            self.sending = False
            self._status(f"Refused: {exc}")
            self._draw()
            return
        self.client_order_id = coid
        audit_log.info(
            "manual order sent",
            extra={"action": "order.place", "client_order_id": coid, "symbol": ticket.symbol},
        )
        self._status(f"Sent as {coid}: waiting for risk and the venue…")
        self.set_interval(WATCH_S, self._watch, name="ticket-watch")
        self._draw()

    def _watch(self) -> None:
        """Risk's or the venue's answer, once it is in the read model."""
        rejection = self._model.books.rejections.get(manual_signal_id(self.request_id))
        if rejection is not None:
            self._status(f"REJECTED by risk ({rejection.rule}): {rejection.reason}")
            return
        order = self._model.orders.get(self.client_order_id or "")
        if order is None:
            return
        filled = f" · filled {order.filled_quantity}" if order.filled_quantity else ""
        avg = f" @ {money(order.average_price)}" if order.average_price else ""
        reason = f": {order.reason}" if order.reason else ""
        self._status(f"{order.status.value}{filled}{avg} · {order.client_order_id}{reason}")

    def action_close(self) -> None:
        self.dismiss(None)


def ticket_for(handle: Any, side: Side, operator: str) -> OrderTicketScreen:
    """A ticket over a console's engine handle: its registry (when it has one), read model
    and operator controls (``place_order`` as strategy ``manual``, naming ``operator``)."""
    registry = getattr(handle, "registry", None)
    instruments: Iterable[Instrument] = registry if registry is not None else ()
    limits: RiskLimits = handle.risk_limits  # the band risk applies, so the ticket says it first

    def lookup(key: str) -> Instrument | None:
        return registry.get(key) if registry is not None else None

    async def place(ticket: OrderTicket, request_id: str) -> str:
        return str(
            await handle.controls.place_order(ticket, request_id=request_id, operator=operator)
        )

    return OrderTicketScreen(
        side,
        instruments=instruments,
        lookup=lookup,
        model=handle.read_model,
        place=place,
        band_pct=limits.price_band_pct,
    )
