"""MIS cut-offs: when intraday positions are squared off, per exchange segment, in event time.

Zerodha squares off open MIS positions itself shortly before the close (NSE equity 15:20
IST) and charges a fee for each; squaring off a little earlier ourselves avoids the fee
and trades at a time the trader chose. After a segment's cut-off no new MIS entry is
accepted until the next session (exits still are). Times are read on the run's clock
(tick and signal event times), so backtests and the simulated market follow them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from types import MappingProxyType

from engine.clock import IST, datetime_to_ns, ns_to_datetime
from engine.market.calendar import NseCalendar
from engine.market.sessions import TradingDays

# Before the broker's own auto square-off (OpenAlgo's defaults; KITE_FACTS B7).
DEFAULT_MIS_CUTOFFS: Mapping[str, time] = MappingProxyType(
    {
        "NSE": time(15, 15),
        "BSE": time(15, 15),
        "NFO": time(15, 15),
        "BFO": time(15, 15),
        "CDS": time(16, 45),
        "BCD": time(16, 45),
        "MCX": time(23, 30),
    }
)


# Zerodha's own auto square-off of open MIS positions, per segment, IST; each order it
# places costs a call-and-trade charge of ₹50 + 18% GST (support.zerodha.com, "What are
# the auto square-off timings for open intraday positions?" and "auto square-off
# charges"). MCX is "25 minutes before the close": 23:05 for a 23:30 close (in the months
# MCX closes at 23:55, 23:30).
ZERODHA_AUTO_SQUARE_OFF: Mapping[str, time] = MappingProxyType(
    {
        "NSE": time(15, 20),
        "BSE": time(15, 20),
        "NFO": time(15, 25),
        "BFO": time(15, 25),
        "CDS": time(16, 45),
        "BCD": time(16, 45),
        "MCX": time(23, 5),
    }
)
AUTO_SQUARE_OFF_CHARGE = Decimal("59.00")  # ₹50 + 18% GST, per order


def exchange_of(symbol: str) -> str:
    """The exchange segment of an ``EXCHANGE:TRADINGSYMBOL`` symbol (NSE when bare)."""
    exchange, sep, _ = symbol.partition(":")
    return exchange.upper() if sep else "NSE"


@dataclass(frozen=True, slots=True)
class MisCutoffs:
    """IST time of day after which MIS positions of a segment are squared off.

    A segment not in ``times`` is never squared off by the engine (the broker still
    does); an empty table switches the feature off.
    """

    times: Mapping[str, time] = field(default_factory=lambda: dict(DEFAULT_MIS_CUTOFFS))
    calendar: NseCalendar = field(default_factory=NseCalendar)

    def __post_init__(self) -> None:
        table = {str(k).upper(): v for k, v in self.times.items()}
        for segment, at in table.items():
            if not isinstance(at, time) or at.tzinfo is not None:
                raise ValueError(f"MIS cut-off of {segment} must be a naive IST time: {at!r}")
        object.__setattr__(self, "times", MappingProxyType(table))

    def __bool__(self) -> bool:
        return bool(self.times)

    def cutoff_ns(self, day: date, exchange: str) -> int | None:
        """UTC ns of ``exchange``'s cut-off on trading day ``day`` (None: no cut-off)."""
        at = self.times.get(exchange.upper())
        if at is None:
            return None
        return datetime_to_ns(datetime.combine(day, at, tzinfo=IST))

    def cutoffs_of(self, day: date) -> list[tuple[int, str]]:
        """Every segment's cut-off on ``day``, earliest first."""
        return sorted((self.cutoff_ns(day, s) or 0, s) for s in self.times)


class MisClock:
    """Answers, for an event time, whether a segment's MIS window has closed for the day."""

    def __init__(self, cutoffs: MisCutoffs) -> None:
        self.cutoffs = cutoffs
        self.days = TradingDays(cutoffs.calendar)

    def closed_at(self, exchange: str, ts_ns: int) -> int | None:
        """The cut-off (UTC ns) that closed MIS entries of ``exchange`` at ``ts_ns``, or None.

        Closed from the cut-off of ``ts_ns``'s trading day to the next session's pre-open.
        """
        day = self.days.window(ts_ns).day
        cutoff = self.cutoffs.cutoff_ns(day, exchange)
        return cutoff if cutoff is not None and ts_ns >= cutoff else None


def describe_cutoff(exchange: str, cutoff_ns: int) -> str:
    """``NSE MIS cut-off 15:15 IST on 2024-01-02``: for reasons and alerts."""
    local = ns_to_datetime(cutoff_ns, IST)
    return f"{exchange} MIS cut-off {local:%H:%M} IST on {local:%Y-%m-%d}"
