"""In-process trading state that risk and execution both consult synchronously.

Checked twice: by risk before validating a signal and by execution immediately before
an order leaves the process, so a kill switch pressed while a signal is in flight
still stops it. Persistence is done by the trading-state service through the port.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.domain.records import TradingStateRecord
from engine.events.types import Broker, TradingMode

GLOBAL_SCOPE = "global"
KILL_SWITCH = "kill switch"  # the reason of a kill, on the state and the orders it cancels
_SEVERITY = {TradingMode.ACTIVE: 0, TradingMode.REDUCING: 1, TradingMode.HALTED: 2}

Listener = Callable[[TradingStateRecord, TradingMode], None]


def kill_reason(origin: str = "") -> str:
    """The reason a kill carries, built once: ``kill switch``, or ``kill switch (cli)``."""
    return f"{KILL_SWITCH} ({origin})" if origin else KILL_SWITCH


def is_stricter(mode: TradingMode, than: TradingMode) -> bool:
    """HALTED is stricter than REDUCING, which is stricter than ACTIVE."""
    return _SEVERITY[mode] > _SEVERITY[than]


def effective_mode(global_mode: TradingMode, own_mode: TradingMode) -> TradingMode:
    """The mode that applies to a strategy: the stricter of the global one and its own.

    The one rule, for risk and execution (``TradingState``) and the console's read model.
    """
    return own_mode if _SEVERITY[own_mode] > _SEVERITY[global_mode] else global_mode


class TradingState:
    """Modes per scope for one broker; the effective mode is the stricter of global and strategy."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._modes: dict[str, TradingStateRecord] = {}
        self._previous: dict[str, TradingMode] = {}
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(new_record, previous_mode)`` on every change."""
        self._listeners.append(listener)

    def load(self, records: list[TradingStateRecord]) -> None:
        """Restore persisted modes at start (a killed engine restarts halted).

        A newer change already made in memory (a kill pressed while a service restarts)
        wins over an older persisted one, unless the persisted one is stricter: on the
        simulated market the engine stamps changes in the run's clock while ``alphapanda
        kill`` from a shell stamps wall time, so "newer" across the two cannot be trusted
        to loosen a halt (never trade while halted; a resume can be pressed again).
        """
        for record in records:
            if record.broker != self.broker:
                continue
            local = self._modes.get(record.scope)
            if (
                local is None
                or record.changed_ts >= local.changed_ts
                or is_stricter(record.mode, local.mode)
            ):
                self._modes[record.scope] = record

    def set(
        self,
        mode: TradingMode,
        scope: str = GLOBAL_SCOPE,
        *,
        reason: str = "",
        operator: str = "",
        ts_ns: int = 0,
    ) -> TradingStateRecord:
        previous = self.scope_mode(scope)
        record = TradingStateRecord(
            broker=self.broker,
            scope=scope,
            mode=mode,
            reason=reason,
            operator=operator,
            changed_ts=ts_ns,
        )
        self._modes[scope] = record
        if mode is not previous:
            self._previous[scope] = previous
        for listener in self._listeners:
            listener(record, previous)
        return record

    def scope_mode(self, scope: str = GLOBAL_SCOPE) -> TradingMode:
        record = self._modes.get(scope)
        return record.mode if record else TradingMode.ACTIVE

    def previous_mode(self, scope: str = GLOBAL_SCOPE) -> TradingMode:
        """The mode ``scope`` had before its last change (ACTIVE if it never changed)."""
        return self._previous.get(scope, TradingMode.ACTIVE)

    def record(self, scope: str = GLOBAL_SCOPE) -> TradingStateRecord | None:
        return self._modes.get(scope)

    def effective(self, strategy: str | None = None) -> TradingMode:
        """The mode that applies to ``strategy``: the stricter of global and its own."""
        glob = self.scope_mode(GLOBAL_SCOPE)
        if strategy is None:
            return glob
        return effective_mode(glob, self.scope_mode(strategy))

    def block_reason(self, strategy: str, reduces_position: Callable[[], bool]) -> str | None:
        """None when a new order may go out; otherwise why not, in words a trader reads.

        ``reduces_position`` is asked only while REDUCING: working it out costs more than
        this check, and an active strategy (the usual case) never needs it.
        """
        mode = self.effective(strategy)
        if mode is TradingMode.ACTIVE:
            return None
        if mode is TradingMode.REDUCING and reduces_position():
            return None
        glob = self.record(GLOBAL_SCOPE)
        own = self.record(strategy)
        source = glob if glob and glob.mode is mode else own
        why = f" ({source.reason})" if source and source.reason else ""
        who = "trading" if source is glob else f"strategy {strategy}"
        if mode is TradingMode.HALTED:
            return f"{who} is HALTED{why}"
        return f"{who} is REDUCING: only orders that reduce a position{why}"

    def scopes(self) -> dict[str, TradingMode]:
        return {scope: rec.mode for scope, rec in self._modes.items()}
