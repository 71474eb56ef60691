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
from collections.abc import Iterable
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


def key_text(key: AlertKey) -> str:
    """An alert key as one string (a cache field name); ``key_of_text`` reads it back."""
    return "\x1f".join(key)


def key_of_text(text: str) -> AlertKey:
    severity, broker, rule, strategy, symbol, message = text.split("\x1f", 5)
    return (severity, broker, rule, strategy, symbol, message)


@dataclass(frozen=True, slots=True)
class AlertLine:
    """One shown line: the newest of ``count`` identical alerts and when the first came.

    ``source_ts`` is the newest alert's time as its source stamped it (the console may
    show it at the run's clock instead): an acknowledgement names it, so every console
    and the read-model cache judge the same alert.
    """

    alert: RiskAlert
    count: int = 1
    first_ts: int = 0
    pinned: bool = False
    source_ts: int = 0

    @property
    def last_ts(self) -> int:
        return self.alert.alert_ts

    def repeated(self, alert: RiskAlert, source_ts: int, pinned: bool) -> AlertLine:
        """Counted in; an older one arriving late (a replay) does not replace the newest."""
        if source_ts < self.source_ts:
            first = min(self.first_ts, alert.alert_ts)
            return AlertLine(self.alert, self.count + 1, first, pinned, self.source_ts)
        return AlertLine(alert, self.count + 1, self.first_ts, pinned, source_ts)

    def same_alert(self, alert: RiskAlert, source_ts: int) -> bool:
        """The very alert this line shows, delivered again (seeded, then replayed)."""
        return source_ts == self.source_ts and alert.message == self.alert.message


class AlertBook:
    """Pinned lines (unacknowledged CRITICAL) and the collapsed history, newest first.

    The history holds at most ``max_lines`` distinct lines (the oldest goes first); the
    pinned ones are never dropped before they are acknowledged. Each alert is O(1). The
    book remembers, per line, the newest alert acknowledged (here or by another console),
    so a replayed alert the operator has read is not pinned again, while a later one is.
    """

    def __init__(self, max_lines: int = 200) -> None:
        self.max_lines = max_lines
        self._pinned: OrderedDict[AlertKey, AlertLine] = OrderedDict()  # oldest first
        self._history: OrderedDict[AlertKey, AlertLine] = OrderedDict()  # oldest first
        self.acknowledged: dict[AlertKey, int] = {}  # newest source time acknowledged
        self.total = 0  # alerts received, counted once each

    def add(self, alert: RiskAlert, source_ts: int | None = None) -> AlertLine:
        """Count ``alert`` into its line (new, or the identical one moved to the top).

        ``source_ts``: its time as its source stamped it, when ``alert`` is shown at
        another (default: its own)."""
        source = alert.alert_ts if source_ts is None else source_ts
        key = alert_key(alert)
        pinned = self._pinned.get(key)
        if pinned is not None:
            if pinned.same_alert(alert, source):
                return pinned
            self.total += 1
            line = pinned.repeated(alert, source, pinned=True)
            self._pinned[key] = line
            self._pinned.move_to_end(key)
            return line
        current = self._history.get(key)
        if current is not None and current.same_alert(alert, source):
            return current
        self.total += 1
        pin = alert.severity is Severity.CRITICAL and source > self.acknowledged.get(key, -1)
        if current is not None:
            del self._history[key]
            line = current.repeated(alert, source, pinned=pin)
        else:
            line = AlertLine(alert, 1, alert.alert_ts, pinned=pin, source_ts=source)
        if line.pinned:
            self._pinned[key] = line
        else:
            self._history[key] = line
            self._trim()
        return line

    def acknowledge(self) -> list[AlertLine]:
        """Unpin every pinned line (they stay in the history); returns what was acknowledged."""
        acknowledged = list(self._pinned.values())
        for line in acknowledged:
            self._unpin(alert_key(line.alert), line)
        return acknowledged

    def acknowledged_elsewhere(self, alerts: Iterable[RiskAlert]) -> list[AlertLine]:
        """Another console's acknowledgement (each alert at its source time): unpin the
        lines whose newest alert is no newer; returns them."""
        unpinned: list[AlertLine] = []
        for alert in alerts:
            key = alert_key(alert)
            self.acknowledged[key] = max(self.acknowledged.get(key, -1), alert.alert_ts)
            line = self._pinned.get(key)
            if line is not None and line.source_ts <= alert.alert_ts:
                self._unpin(key, line)
                unpinned.append(line)
        return unpinned

    def _unpin(self, key: AlertKey, line: AlertLine) -> None:
        self._pinned.pop(key, None)
        self.acknowledged[key] = max(self.acknowledged.get(key, -1), line.source_ts)
        self._history[key] = AlertLine(
            line.alert, line.count, line.first_ts, pinned=False, source_ts=line.source_ts
        )
        self._trim()

    def _trim(self) -> None:
        while len(self._history) > self.max_lines:
            self._history.popitem(last=False)

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
