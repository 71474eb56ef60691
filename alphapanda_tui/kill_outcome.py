"""What ``alphapanda kill`` prints and exits with, for the full and the lean path alike.

Kept free of heavy imports so the lean path (``alphapanda_tui.kill_fast``) can say
exactly what the full path says: one wording, one set of exit codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

NO_ACK_EXIT = 3  # the state is persisted, but no running engine confirmed it stopped sending


@dataclass(frozen=True)
class Outcome:
    """What the command prints: the result on stdout, diagnostics on stderr, its status."""

    result: str
    diagnostic: str = ""
    exit_code: int = 0


def is_kill_ack(detail: Mapping[str, object], request_id: str) -> bool:
    """An acknowledgement of ``request_id`` by an engine that executes orders and stopped."""
    return (
        detail.get("request_id") == request_id
        and bool(detail.get("executes_orders"))
        and bool(detail.get("sends_stopped"))
    )


def killed(actor: str, detail: Mapping[str, object], flatten: bool) -> Outcome:
    """The kill was acknowledged: HALTED, said with who stopped and how fast."""
    after = detail.get("held_after_ms")
    then = (
        "cancelling open orders and squaring off positions" if flatten else "cancelling open orders"
    )
    return Outcome(
        f"trading is now HALTED: {actor} stopped sending orders {after} ms after the "
        f"request; it is {then}"
    )


def not_acknowledged(home: Path, flatten: bool, wait_s: float) -> Outcome:
    """Stored, but nobody confirmed: say what is and is not promised, exit ``NO_ACK_EXIT``."""
    from alphapanda_tui.pid_file import running_engine_pid

    pid = running_engine_pid(home)
    who = f"the engine (pid {pid})" if pid is not None else "no running engine"
    result = (
        f"HALTED is stored (state persisted); {who} acknowledged within {wait_s:g} s, so "
        "nothing confirms that an engine stopped sending; an engine that starts later "
        "starts HALTED"
    )
    diagnostic = ""
    if pid is not None:
        diagnostic = f"engine pid {pid} did not acknowledge the kill; check its log"
    if flatten:
        diagnostic = (
            (diagnostic + "; " if diagnostic else "")
            + "positions were NOT squared off: only a running engine squares off, and a "
            "later start never does it by itself; start the engine and run "
            "'alphapanda kill --flatten' again"
        )
    return Outcome(result, diagnostic, NO_ACK_EXIT)
