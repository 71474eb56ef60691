"""MIS square-offs: intraday positions closed at their segment's cut-off, and carried ones.

At a segment's cut-off every MIS position of that exchange is closed at market (CNC and
NRML carry over). On the first tick of a trading day, an MIS position carried from an
earlier one is closed on paper; live, Zerodha has closed it already, so an order now
would open a new position: the operator is told instead.
"""

from __future__ import annotations

from engine.domain.records import OrderRecord
from engine.events.payloads import Tick
from engine.events.types import Broker, Product, Severity
from engine.execution.core import MIS_SQUARE_OFF, MIS_SQUARE_OFF_RULE, log
from engine.execution.mis_carry import MIS_CARRIED_RULE, CarriedMis, carried_mis
from engine.execution.sending import OrderSending
from engine.market.square_off import describe_cutoff, exchange_of
from engine.processing.emitter import Emitter


class MisSquareOffs(OrderSending):
    """Squares off MIS positions when a tick reaches a cut-off or a new trading day."""

    async def _mis_due(self, cause: str, tick: Tick, out: Emitter) -> None:
        """Square off what ``tick`` made due: each cut-off reached, then, on the first tick of
        a trading day, MIS positions carried from an earlier one (``engine.execution.mis_carry``).

        Live, a cut-off of an earlier day is the broker's to have acted on: left to the
        carried check, which alerts instead of sending.
        """
        schedule = self.mis_schedule
        day_before = schedule.window
        due = schedule.due(tick.exchange_ts)
        today = schedule.window
        paper = self.broker is Broker.PAPER
        for cutoff_ns, exchange in due:
            if paper or today is None or cutoff_ns >= today.start_ns:
                await self._square_off_mis(cause, cutoff_ns, exchange, tick, out)
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
        order = await self._flatten(
            carried.key,
            carried.net,
            cause=f"{MIS_SQUARE_OFF}carried:{cause}",
            signal_id=f"{MIS_SQUARE_OFF}carried:{cause}",
            reason=f"MIS position carried from {carried.from_day}",
            ts=tick.exchange_ts,
            out=out,
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

    async def _square_off_mis(
        self, cause: str, cutoff_ns: int, exchange: str, tick: Tick, out: Emitter
    ) -> None:
        """Close every MIS position of ``exchange``: its cut-off passed at ``tick``'s time.

        CNC and NRML positions carry over untouched. The orders go out while HALTED too
        (they only reduce), and the strategies' intents follow their fills.
        """
        when = describe_cutoff(exchange, cutoff_ns)
        for key, net in list(self.net_positions.items()):
            symbol, product = self._position_info.get(key, ("", Product.MIS))
            if net == 0 or product is not Product.MIS or exchange_of(symbol) != exchange:
                continue
            order = await self._flatten(
                key,
                net,
                cause=f"{MIS_SQUARE_OFF}{cause}",
                signal_id=f"{MIS_SQUARE_OFF}{exchange}:{cause}",
                reason=f"MIS square-off at the {when}",
                ts=tick.exchange_ts,
                out=out,
            )
            if order is None:
                continue
            message = (
                f"MIS square-off at the {when}: {order.side.value} {order.quantity} {symbol} "
                f"at market for {key[0]} (held {net:+d})"
            )
            self._announce_square_off(
                "MIS square-off", order, MIS_SQUARE_OFF_RULE, message, tick, out
            )
