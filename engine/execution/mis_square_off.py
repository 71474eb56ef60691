"""MIS square-offs: intraday positions closed at their segment's cut-off, and carried ones.

At a segment's cut-off every MIS position of that exchange is closed at market (CNC and
NRML carry over). On the first tick of a trading day, an MIS position carried from an
earlier one is closed on paper; live, Zerodha has closed it already, so an order now
would open a new position: the operator is told instead. A HALTED strategy's square-off
is held until trading resumes (``engine.execution.mis_held``).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.clock import IST, ns_to_datetime
from engine.domain.records import OrderRecord
from engine.events.payloads import Tick
from engine.events.types import Broker, Product, Severity
from engine.execution.broker import PaperAdapter
from engine.execution.core import MIS_SQUARE_OFF, MIS_SQUARE_OFF_RULE, PositionKey, log
from engine.execution.mis_carry import MIS_CARRIED_RULE, CarriedMis, carried_mis
from engine.execution.mis_held import HeldKind, HeldSquareOff
from engine.execution.sending import OrderSending
from engine.market.square_off import AUTO_SQUARE_OFF_CHARGE, describe_cutoff, exchange_of
from engine.processing.emitter import Emitter


class MisSquareOffs(OrderSending):
    """Squares off MIS positions when a tick reaches a cut-off or a new trading day."""

    async def _mis_due(self, cause: str, tick: Tick, out: Emitter) -> None:
        """Square off what ``tick`` made due: each cut-off reached, then, on the first tick of
        a trading day, MIS positions carried from an earlier one (``engine.execution.mis_carry``).

        Live, a cut-off of an earlier day is the broker's to have acted on: left to the
        carried check, which alerts instead of sending.
        """
        if self._held_mis:
            await self._release_held(cause, tick, out)
        schedule = self.mis_schedule
        day_before = schedule.window
        due = schedule.due(tick.exchange_ts)
        today = schedule.window
        paper = self.broker is Broker.PAPER
        for cutoff_ns, exchange in due:
            if paper or today is None or cutoff_ns >= today.start_ns:
                await self._square_off_mis(cause, cutoff_ns, exchange, tick, out)
        for cutoff_ns, exchange in self.venue_square_off.due(tick.exchange_ts):
            await self._venue_squares_off(cause, cutoff_ns, exchange, tick, out)
        if today is None or today is day_before:
            return
        positions = self.net_positions
        found = carried_mis(positions, self._position_info, self._last_fill_ns, today, schedule)
        for carried in found:
            if paper:
                await self._square_off_carried(cause, carried, tick, out)
            else:
                self._alert_carried(carried, tick, out)

    async def _square_off_carried(
        self, cause: str, carried: CarriedMis, tick: Tick, out: Emitter
    ) -> None:
        """Paper: close an MIS position carried from an earlier day at market, now."""
        held = HeldSquareOff(
            HeldKind.CARRIED,
            exchange_of(carried.symbol),
            carried.symbol,
            f"carried from {carried.from_day}",
        )
        if self._held_while_halted(carried.key, carried.net, held, tick, out):
            return
        order = await self._flatten(
            carried.key,
            carried.net,
            cause=f"{MIS_SQUARE_OFF}carried:{cause}",
            signal_id=f"{MIS_SQUARE_OFF}carried:{cause}",
            reason=f"MIS position carried from {carried.from_day}",
            ts=tick.exchange_ts,
            out=out,
            bypass_halt=False,
        )
        if order is None:
            return
        message = carried.squared_off(order.side.value, order.quantity)
        self._announce_square_off(
            "MIS carried position squared off", order, MIS_CARRIED_RULE, message, tick, out
        )

    def _alert_carried(self, carried: CarriedMis, tick: Tick, out: Emitter) -> None:
        """Live: Zerodha has closed it already; an order now would open a new position."""
        message = carried.left_to_broker()
        log.error(
            "MIS carried position left to the broker",
            extra={"strategy": carried.key[0], "symbol": carried.symbol, "reason": message},
        )
        self._position_alert(
            Severity.CRITICAL,
            MIS_CARRIED_RULE,
            carried.key,
            carried.symbol,
            message,
            tick.exchange_ts,
            out,
        )

    def _announce_square_off(
        self, event: str, order: OrderRecord, rule: str, message: str, tick: Tick, out: Emitter
    ) -> None:
        """Log a square-off order this service placed and tell the operator in words."""
        log.warning(
            event,
            extra={
                "client_order_id": order.client_order_id,
                "strategy": order.strategy,
                "symbol": order.symbol,
                "side": order.side.value,
                "quantity": order.quantity,
                "reason": message,
            },
        )
        key = (order.strategy, order.instrument_token)
        self._position_alert(
            Severity.WARNING, rule, key, order.symbol, message, tick.exchange_ts, out
        )

    async def _venue_squares_off(
        self, cause: str, at_ns: int, exchange: str, tick: Tick, out: Emitter
    ) -> None:
        """Paper: the venue closes what MIS is still open at Zerodha's auto square-off time.

        Zerodha does this live whatever the engine's state (it is the broker's order, not
        ours), with a call-and-trade charge per order; the paper venue does the same, so a
        HALTED paper engine or a backtest ends the day as a live account would.
        """
        when = describe_cutoff(exchange, at_ns).replace("MIS cut-off", "auto square-off")
        reason = f"paper venue: Zerodha's {when} (call and trade ₹{AUTO_SQUARE_OFF_CHARGE})"
        for key, net, symbol in self._open_mis(exchange):
            self._held_mis.pop(key, None)
            await self._square_off_at_market(
                key,
                net,
                symbol,
                cause=f"{MIS_SQUARE_OFF}venue:{cause}",
                signal_id=f"{MIS_SQUARE_OFF}venue:{exchange}:{cause}",
                reason=reason,
                event="MIS auto square-off by the venue",
                rule=MIS_SQUARE_OFF_RULE,
                tick=tick,
                out=out,
                note="; the engine's own square-off had not closed it",
                bypass_halt=True,  # the broker's order, not the engine's
                before_send=self._charge_auto_square_off,
            )

    def _charge_auto_square_off(self, order: OrderRecord) -> None:
        if isinstance(self.adapter, PaperAdapter):  # the only venue that squares off here
            self.adapter.broker.surcharge(order.client_order_id, AUTO_SQUARE_OFF_CHARGE)

    async def _square_off_mis(
        self, cause: str, cutoff_ns: int, exchange: str, tick: Tick, out: Emitter
    ) -> None:
        """Close every MIS position of ``exchange``: its cut-off passed at ``tick``'s time.

        CNC and NRML positions carry over untouched. A HALTED strategy's position is held
        until trading resumes; REDUCING lets the orders out (they only reduce). The
        strategies' intents follow their fills.
        """
        when = describe_cutoff(exchange, cutoff_ns)
        for key, net, symbol in self._open_mis(exchange):
            held = HeldSquareOff(HeldKind.CUTOFF, exchange, symbol, f"the {when}")
            if self._held_while_halted(key, net, held, tick, out):
                continue
            await self._square_off_at_market(
                key,
                net,
                symbol,
                cause=f"{MIS_SQUARE_OFF}{cause}",
                signal_id=f"{MIS_SQUARE_OFF}{exchange}:{cause}",
                reason=f"MIS square-off at the {when}",
                event="MIS square-off",
                rule=MIS_SQUARE_OFF_RULE,
                tick=tick,
                out=out,
            )

    def _open_mis(self, exchange: str) -> list[tuple[PositionKey, int, str]]:
        """(key, net, symbol) of every open MIS position of segment ``exchange``."""
        found = []
        for key, net in self.net_positions.items():
            symbol, product = self._position_info.get(key, ("", Product.MIS))
            if net != 0 and product is Product.MIS and exchange_of(symbol) == exchange:
                found.append((key, net, symbol))
        return found

    async def _square_off_at_market(
        self,
        key: PositionKey,
        net: int,
        symbol: str,
        *,
        cause: str,
        signal_id: str,
        reason: str,
        event: str,
        rule: str,
        tick: Tick,
        out: Emitter,
        note: str = "",
        bypass_halt: bool = False,
        before_send: Callable[[OrderRecord], None] | None = None,
    ) -> None:
        """Close ``net`` of ``key`` at market and tell the operator what went out, and why."""
        order = await self._flatten(
            key,
            net,
            cause=cause,
            signal_id=signal_id,
            reason=reason,
            ts=tick.exchange_ts,
            out=out,
            bypass_halt=bypass_halt,
            before_send=before_send,
        )
        if order is None:
            return
        message = (
            f"{reason}: {order.side.value} {order.quantity} {symbol} at market for {key[0]} "
            f"(held {net:+d}){note}"
        )
        self._announce_square_off(event, order, rule, message, tick, out)

    def _held_while_halted(
        self, key: PositionKey, net: int, held: HeldSquareOff, tick: Tick, out: Emitter
    ) -> bool:
        """True (and the operator told once) when ``key``'s strategy may not send now."""
        halted = self.trading_state.block_reason(key[0], lambda: True)
        if halted is None:
            return False
        if key not in self._held_mis:
            message = held.held_message(key[0], net, halted, self._closed_after(held, tick))
            log.error(
                "MIS square-off held while HALTED",
                extra={"strategy": key[0], "symbol": held.symbol, "reason": message},
            )
            self._position_alert(
                Severity.CRITICAL, held.rule, key, held.symbol, message, tick.exchange_ts, out
            )
        self._held_mis[key] = held
        return True

    def _closed_after(self, held: HeldSquareOff, tick: Tick) -> str:
        """Who closes a held MIS position if the operator does not, and when."""
        if self.broker is not Broker.PAPER:
            return "Zerodha squares off MIS itself (equity 15:20, F&O 15:25) for ₹50 + GST"
        window = self.venue_square_off.day_of(tick.exchange_ts)
        at_ns = self.venue_square_off.cutoffs.cutoff_ns(window.day, held.exchange)
        if at_ns is None or at_ns <= tick.exchange_ts:
            return "nothing else closes it on paper"
        at = ns_to_datetime(at_ns, IST)
        return (
            f"else the paper venue squares it off at {at:%H:%M} IST, as Zerodha does, "
            f"for ₹{AUTO_SQUARE_OFF_CHARGE}"
        )

    async def _release_held(self, cause: str, tick: Tick, out: Emitter) -> None:
        """Send the held square-offs whose strategy may trade again (closed ones are dropped)."""
        for key, held in list(self._held_mis.items()):
            net = self.net_positions.get(key, 0)
            if net == 0:
                del self._held_mis[key]
                continue
            if self.trading_state.block_reason(key[0], lambda: True) is not None:
                continue
            del self._held_mis[key]
            await self._square_off_at_market(
                key,
                net,
                held.symbol,
                cause=f"{MIS_SQUARE_OFF}held:{cause}",
                signal_id=f"{MIS_SQUARE_OFF}held:{held.exchange}:{cause}",
                reason=held.reason(),
                event="MIS square-off",
                rule=held.rule,
                tick=tick,
                out=out,
            )
