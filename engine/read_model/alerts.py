"""``AlertBook``: risk alerts as a trader reads them, collapsed and with the critical pinned.

A halted engine refuses every signal and risk raises one WARNING per refusal; shown one
per line they bury the one alert that matters (the kill switch) within seconds. So:

- **Identical alerts collapse** into one line carrying a count, the first and the last
  time. Identical means the same severity, broker, rule, strategy and symbol, and the
  same message once every number in it is replaced by ``#`` (quantities, prices, limits
  and counts vary per signal; the words say what happened). The line shows the newest
  alert's words and moves to the top each time it repeats.
- **CRITICAL alerts stay pinned** at the top (kill switch, automatic halts, token expiry,
  a reconciliation gap) until the operator acknowledges them, however many other alerts
  arrive; acknowledged, they become ordinary lines of the history.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from engine.events.payloads import RiskAlert
from engine.events.types import Severity

_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")

AlertKey = tuple[str, str, str, str, str, str]


def alert_key(alert: RiskAlert) -> AlertKey:
    """What makes two alerts the same line (see the module docstring)."""
    return (
        alert.severity.value,
        alert.broker.value if alert.broker is not None else "",
        alert.rule,
        alert.strategy or "",
        alert.symbol or "",
        _NUMBER.sub("#", alert.message),
    )


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One shown line: the newest of ``count`` identical alerts and when the first came."""

    alert: RiskAlert
    count: int = 1
    first_ts: int = 0
    pinned: bool = False

    @property
    def last_ts(self) -> int:
        return self.alert.alert_ts

    def repeated(self, alert: RiskAlert) -> AlertLine:
        return AlertLine(alert, self.count + 1, self.first_ts, self.pinned)


class AlertBook:
    """Pinned lines (unacknowledged CRITICAL) and the collapsed history, newest first.

    The history holds at most ``max_lines`` distinct lines (the oldest goes first); the
    pinned ones are never dropped before they are acknowledged. Each alert is O(1).
    """

    def __init__(self, max_lines: int = 200) -> None:
        self.max_lines = max_lines
        self._pinned: OrderedDict[AlertKey, AlertLine] = OrderedDict()  # oldest first
        self._history: OrderedDict[AlertKey, AlertLine] = OrderedDict()  # oldest first
        self.total = 0  # alerts received, counted once each

    def add(self, alert: RiskAlert) -> AlertLine:
        """Count ``alert`` into its line (new, or the identical one moved to the top)."""
        self.total += 1
        key = alert_key(alert)
        pinned = self._pinned.get(key)
        if pinned is not None:
            line = pinned.repeated(alert)
            self._pinned[key] = line
            self._pinned.move_to_end(key)
            return line
        current = self._history.pop(key, None)
        if current is not None:
            line = current.repeated(alert)
        else:
            critical = alert.severity is Severity.CRITICAL
            line = AlertLine(alert, 1, alert.alert_ts, pinned=critical)
        if line.pinned:
            self._pinned[key] = line
        else:
            self._history[key] = line
            while len(self._history) > self.max_lines:
                self._history.popitem(last=False)
        return line

    def acknowledge(self) -> list[AlertLine]:
        """Unpin every pinned line (they stay in the history); returns what was acknowledged."""
        acknowledged = list(self._pinned.values())
        self._pinned.clear()
        for line in acknowledged:
            key = alert_key(line.alert)
            self._history[key] = AlertLine(line.alert, line.count, line.first_ts, pinned=False)
        while len(self._history) > self.max_lines:
            self._history.popitem(last=False)
        return acknowledged

    @property
    def pinned(self) -> list[AlertLine]:
        """Unacknowledged CRITICAL lines, newest first."""
        return list(reversed(self._pinned.values()))

    def history(self, limit: int | None = None) -> list[AlertLine]:
        """The other lines, the most recently repeated first; at most ``limit``."""
        lines: list[AlertLine] = []
        for line in reversed(self._history.values()):
            if limit is not None and len(lines) >= limit:
                break
            lines.append(line)
        return lines

    def lines(self, limit: int | None = None) -> list[AlertLine]:
        """What the panel shows: the pinned lines, then the history (``limit`` counts both)."""
        pinned = self.pinned
        rest = None if limit is None else max(0, limit - len(pinned))
        return pinned + self.history(rest)
