"""The equity curve of a run, marked to market, in bounded memory, and its drawdown.

The run offers the book's equity at event times (every time the pipeline has drained);
``EquitySampler`` keeps at most ``max_points`` of them for the chart by thinning to every
other point and doubling its stride when full, so a 1M-tick run holds the same few
thousand points as a short one, and the same run always keeps the same points. The
drawdown is taken over every equity offered, not only the kept points, so thinning never
hides the worst fall.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DEFAULT_MAX_POINTS = 2_000


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts: int  # event time, UTC ns
    equity: Decimal


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The largest fall from a running peak: ``amount`` <= 0, with when it peaked and
    bottomed (UTC ns; both None when equity never fell)."""

    amount: Decimal
    peak_equity: Decimal
    peak_ts: int | None
    trough_ts: int | None


@dataclass(frozen=True, slots=True)
class EquityCurve:
    points: tuple[EquityPoint, ...]
    drawdown: Drawdown


class EquitySampler:
    """Streams (event time, equity) in; keeps a bounded curve and the exact max drawdown."""

    def __init__(self, max_points: int = DEFAULT_MAX_POINTS) -> None:
        if max_points < 2:
            raise ValueError(f"an equity curve needs at least 2 points, got {max_points}")
        self.max_points = max_points
        self._points: list[EquityPoint] = []
        self._stride = 1  # keep one offer in every ``_stride``
        self._offered = 0
        self._last: EquityPoint | None = None
        self._peak: EquityPoint | None = None
        self._worst = Decimal(0)
        self._worst_peak: EquityPoint | None = None
        self._worst_ts: int | None = None

    @property
    def empty(self) -> bool:
        return self._last is None

    def offer(self, ts: int, equity: Decimal) -> None:
        point = EquityPoint(ts, equity)
        self._track_drawdown(point)
        if self._offered % self._stride == 0:
            self._points.append(point)
            if len(self._points) > self.max_points:
                del self._points[1::2]  # the first point stays: where the run began
                self._stride *= 2
        self._offered += 1
        self._last = point

    def _track_drawdown(self, point: EquityPoint) -> None:
        if self._peak is None or point.equity > self._peak.equity:
            self._peak = point
            return
        fall = point.equity - self._peak.equity
        if fall < self._worst:
            self._worst, self._worst_peak, self._worst_ts = fall, self._peak, point.ts

    def curve(self) -> EquityCurve:
        """The kept points, always ending with the last offered, and the drawdown."""
        points = list(self._points)
        if self._last is not None and (not points or points[-1] is not self._last):
            points.append(self._last)
        peak = self._worst_peak
        drawdown = Drawdown(
            amount=self._worst,
            peak_equity=peak.equity if peak else (points[0].equity if points else Decimal(0)),
            peak_ts=peak.ts if peak else None,
            trough_ts=self._worst_ts,
        )
        return EquityCurve(tuple(points), drawdown)
