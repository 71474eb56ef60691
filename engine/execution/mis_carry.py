"""MIS positions carried into a later trading day, and what execution does about them.

An MIS position is intraday: the cut-off square-off closes it on the day it was opened.
One can still be carried into the next day: the process crashed or was stopped before the
cut-off tick and restarted on a later day (a new process's schedule starts on the day it
first sees), or a fill arrived after the square-off. On the first tick of each trading day
execution looks for MIS positions whose last fill was on an earlier trading day. On the
paper venue nobody else will close them, so execution squares them off at market. On
Zerodha the broker has already closed them with its own auto square-off (15:20 IST, for a
fee): an order from us would open a new position, so execution sends nothing and says so
in an alert; the reconciler brings the book in line with the broker's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.events.types import Product
from engine.execution.mis_schedule import MisSchedule
from engine.market.sessions import DayWindow
from engine.market.square_off import exchange_of

MIS_CARRIED_RULE = "mis_carried"

PositionKey = tuple[str, int]  # (strategy, instrument token)


@dataclass(frozen=True, slots=True)
class CarriedMis:
    """One MIS position held from ``from_day`` into ``today``."""

    key: PositionKey
    symbol: str
    net: int
    from_day: str  # ISO date of the trading day of its last fill
    today: str

    def squared_off(self, side: str, quantity: int) -> str:
        """The words of the paper square-off, for the log, the alert and the order."""
        return (
            f"MIS position carried from {self.from_day} squared off at the first tick of "
            f"{self.today}: {side} {quantity} {self.symbol} at market for {self.key[0]} "
            f"(held {self.net:+d})"
        )

    def left_to_broker(self) -> str:
        """The words of the live alert: no order, the reconciler settles the book."""
        return (
            f"MIS position {self.net:+d} {self.symbol} of {self.key[0]} carried from "
            f"{self.from_day} into {self.today}: Zerodha squares off MIS itself at 15:20, so "
            "no order was sent; the reconciler settles the book with the broker's — check "
            "the position in Kite"
        )


def carried_mis(
    positions: Mapping[PositionKey, int],
    info: Mapping[PositionKey, tuple[str, Product]],
    last_fill_ns: Mapping[PositionKey, int],
    today: DayWindow,
    schedule: MisSchedule,
) -> list[CarriedMis]:
    """Open MIS positions of a segment with a cut-off whose last fill was before ``today``.

    A segment without a cut-off is left alone, as at the cut-off itself.
    """
    carried = []
    for key, net in positions.items():
        symbol, product = info.get(key, ("", Product.MIS))
        last = last_fill_ns.get(key)
        if net == 0 or product is not Product.MIS or last is None or last >= today.start_ns:
            continue
        if schedule.cutoffs.cutoff_ns(today.day, exchange_of(symbol)) is None:
            continue
        from_day = schedule.day_of(last).label
        carried.append(CarriedMis(key, symbol, net, from_day, today.label))
    return carried
