"""When execution squares off MIS positions: each segment's cut-off, once per day, in event time.

Execution reads every tick; the schedule keeps the earliest cut-off not yet passed, so a
tick before it costs one comparison. A tick at or after a cut-off makes it due; a tick of a
later trading day makes every cut-off left over from the day before due too (a backtest or
a quiet segment may skip past one). The first day a process sees starts fresh: what an
earlier process or the broker squared off is not squared off again. ``window`` changes on
the first tick of each trading day, so execution can look then for MIS positions carried
from an earlier day (a restart after a cut-off, or a fill after it).
"""

from __future__ import annotations

from engine.market.sessions import DayWindow, TradingDays
from engine.market.square_off import MisCutoffs

Due = tuple[int, str]  # (cut-off UTC ns, exchange segment)
_NEVER = 1 << 62


class MisSchedule:
    """The cut-offs still ahead on the current trading day."""

    def __init__(self, cutoffs: MisCutoffs) -> None:
        self.cutoffs = cutoffs
        self._days = TradingDays(cutoffs.calendar)
        self._window: DayWindow | None = None
        self._ahead: list[Due] = []
        self.next_ns = 0 if cutoffs else _NEVER  # an event at or after it needs ``due``

    @property
    def window(self) -> DayWindow | None:
        """The trading day of the newest event seen (None before the first)."""
        return self._window

    def day_of(self, ts_ns: int) -> DayWindow:
        """The trading day event time ``ts_ns`` belongs to."""
        return self._days.window(ts_ns)

    def passed(self, exchange: str, ts_ns: int) -> int | None:
        """The cut-off of ``exchange`` on the current trading day once a tick has reached it
        (its square-off has run, or is held), else None; None for an order of event time
        ``ts_ns`` in a later session (its signal can arrive before that session's first
        tick rolls the day here).

        Execution refuses a new MIS entry from then on, even one signalled just before the
        cut-off: an exit that risk approved while the position was open, arriving just
        after the square-off of that position went out, would open it again the other way.
        """
        window = self._window
        if window is None or ts_ns >= window.end_ns:
            return None
        cutoff = self.cutoffs.cutoff_ns(window.day, exchange)
        if cutoff is None or (cutoff, exchange) in self._ahead:
            return None
        return cutoff

    def due(self, ts_ns: int) -> list[Due]:
        """The cut-offs reached at event time ``ts_ns``, each returned once."""
        if ts_ns < self.next_ns:
            return []
        due: list[Due] = []
        window = self._window
        if window is None or ts_ns >= window.end_ns:
            if window is not None:
                due.extend(self._ahead)  # yesterday's, never reached by a tick
            window = self._days.window(ts_ns)
            self._window = window
            self._ahead = self.cutoffs.cutoffs_of(window.day)
        due.extend(c for c in self._ahead if c[0] <= ts_ns)
        self._ahead = [c for c in self._ahead if c[0] > ts_ns]
        self.next_ns = self._ahead[0][0] if self._ahead else window.end_ns
        return due
