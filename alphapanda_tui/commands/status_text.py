"""``alphapanda status`` in words: the collected status as the lines a trader reads.

Separate from the collecting so the wording is one pure function of the JSON figures.
Money is spelt by ``engine.money`` as on the console's P&L line and tables; times are
IST, like the console's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.clock import IST, ns_to_datetime
from engine.money import amount, signed_amount


def status_lines(status: dict[str, Any]) -> list[str]:
    """Every line of the text report, in order: state, strategies, book, P&L."""
    return [
        _headline(status),
        *_strategy_lines(status),
        f"positions {len(status['positions'])}  open orders {len(status['open_orders'])}",
        *_pnl_lines(status["pnl"]),
    ]


def ist_stamp(ts_ns: int | None) -> str:
    """``05 Jan 2026 10:00:00 IST``; '—' when unknown."""
    if not ts_ns:
        return "—"
    return ns_to_datetime(ts_ns, IST).strftime("%d %b %Y %H:%M:%S IST")


_MARKETS = {"SIM": "the simulated market's clock", "REPLAY": "the replayed market's clock"}


def snapshot_time(pnl: dict[str, Any]) -> str:
    """When the snapshot was taken, on the clock the console shows, and which clock that is:
    ``SIM 16 Dec 2026 11:02:30 IST (the simulated market's clock)``, or the wall clock's
    time where the market keeps wall time (or the row predates its market time)."""
    clock, event_ts = pnl.get("clock"), pnl.get("event_ts")
    if clock and event_ts:
        return f"{clock} {ist_stamp(event_ts)} ({_MARKETS.get(clock, 'the market clock')})"
    wall = ist_stamp(pnl["snapshot_ts"])
    if clock:
        return f"{wall} (wall clock: the snapshot has no {clock} time stored)"
    return f"{wall} (wall clock, the market's)"


def _headline(status: dict[str, Any]) -> str:
    engine = status["engine"]
    running = f"running (pid {engine['pid']})" if engine["running"] else "stopped"
    glob = status["trading_state"]
    by = f"by {glob['operator']}" if glob["operator"] else ""
    detail = ", ".join(part for part in (glob["reason"], by) if part)
    trading = glob["mode"] + (f" ({detail})" if detail else "")
    return f"mode {status['mode'].upper()}  trading {trading}  engine {running}"


def _strategy_lines(status: dict[str, Any]) -> list[str]:
    strategies = status["strategies"]
    if not strategies:
        return ["strategies: none enabled in the strategies file"]
    width = max(len(s["name"]) for s in strategies)
    lines = ["strategies (enabled):"]
    for s in strategies:
        state = _strategy_state(s, status["trading_state"])
        runs = "" if s["runs"] else f"  (not run in {status['mode']} mode)"
        instruments = ", ".join(s["instruments"])
        lines.append(f"  {s['name']:<{width}}  {s['broker']:<7}  {state}  {instruments}{runs}")
    return lines


def _strategy_state(strategy: dict[str, Any], glob: dict[str, Any]) -> str:
    """``HALTED (global: kill switch; own state ACTIVE)`` where the two differ."""
    state, own = strategy["state"], strategy["own_state"]
    if state == own:
        reason = strategy["own_reason"]
        return f"{state} ({reason})" if reason and state != "ACTIVE" else state
    cause = f"global: {glob['reason']}" if glob["reason"] else "global"
    return f"{state} ({cause}; own state {own})"


def _pnl_lines(pnl: dict[str, Any] | None) -> list[str]:
    if pnl is None:
        return ["P&L: no snapshot stored yet"]
    # Money columns are NOT NULL except the day's three, which are written together.
    figures = {
        key: _decimal(value)
        for key, value in pnl.items()
        if key.endswith(_MONEY) and value is not None
    }
    lines = [f"P&L (₹) snapshot at {snapshot_time(pnl)}"]
    if pnl.get("day_realized_pnl") is not None:
        day = figures["day_realized_pnl"] + figures["day_unrealized_pnl"] - figures["day_charges"]
        lines.append(
            f"  day {pnl.get('trading_day') or ''}  P&L {signed_amount(day)}"
            f"  realized {signed_amount(figures['day_realized_pnl'])}"
            f"  unrealized {signed_amount(figures['day_unrealized_pnl'])}"
            f"  charges {amount(figures['day_charges'])}"
        )
    else:  # a row stored before day figures were kept: never the overall ones as "day"
        lines.append("  day      not in the stored snapshot (stored before day figures were kept)")
    overall = figures["realized_pnl"] + figures["unrealized_pnl"] - figures["charges"]
    lines.append(
        f"  overall  P&L {signed_amount(overall)}"
        f"  realized {signed_amount(figures['realized_pnl'])}"
        f"  unrealized {signed_amount(figures['unrealized_pnl'])}"
        f"  charges {amount(figures['charges'])}  equity {amount(figures['equity'])}"
    )
    return lines


_MONEY = ("_pnl", "charges", "equity", "cash", "exposure")


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))
