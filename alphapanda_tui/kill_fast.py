"""``alphapanda kill`` in well under 200 ms: the same request, without the heavy imports.

The full path spends about a second importing pydantic-settings, SQLAlchemy and alembic
before it writes two rows. This one reads the few settings a kill needs
(``kill_settings``), writes the same two rows with sqlite3 or asyncpg (``kill_store``)
and the same ``audit.jsonl`` line, waits for the engine's acknowledgement exactly as
``commands.control`` does, and prints the same words with the same exit status.

It never guesses: anything it cannot do exactly as the full path would (another flag,
``--help``, a setting it does not read, a database that is missing or not at the head
revision, a Kafka bus) returns ``None`` before any row is written, and ``cli.main``
runs the full path. A weaker kill is never the result.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from alphapanda_tui.kill_outcome import Outcome, is_kill_ack, killed, not_acknowledged
from alphapanda_tui.kill_settings import LOG_LEVELS, MODES, KillSettings, NotCertain
from alphapanda_tui.kill_store import AuditLine, KillStore, StateRow

COMMAND = "kill"
ACK_POLL_S = 0.01  # as commands.control
REQUEST_ACTION = "request.kill"  # engine.trading_state.requests: REQUEST_PREFIX + action
ACK_PREFIX = "ack."
GLOBAL_SCOPE = "global"  # engine.trading_state.state.GLOBAL_SCOPE
HALTED = "HALTED"
REASON = "kill from the command line"
_GLOBAL_OPTIONS = {"--home": "home", "--mode": "mode", "--log-level": "log_level"}


@dataclass(frozen=True)
class KillRequest:
    """The parsed command line: global flags, ``--flatten`` and ``--wait``."""

    flags: dict[str, str] = field(default_factory=dict)
    flatten: bool = False
    wait_s: float = 3.0


def fast_kill(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int | None:
    """Run the kill and return its exit status, or ``None`` for the full path to run it."""
    request = parse_kill_args(argv)
    if request is None:
        return None
    try:
        from alphapanda_tui.kill_settings import resolve_kill_settings
        from alphapanda_tui.kill_store import open_kill_store

        settings = resolve_kill_settings(request.flags, os.environ if environ is None else environ)
        _ensure_home(settings)
        store = open_kill_store(settings.database_url)
    except NotCertain:
        return None
    try:
        outcome = send_kill(store, settings, request)
    except NotCertain:
        return None  # nothing was stored: the full path tries again
    finally:
        store.close()
    print(outcome.result, flush=True)
    if outcome.diagnostic:
        print(outcome.diagnostic, file=sys.stderr, flush=True)
    return outcome.exit_code


def _ensure_home(settings: KillSettings) -> None:
    """As the full path does before anything is stored; it also words any failure."""
    from alphapanda_tui.kill_audit_log import ensure_logs_dir

    try:
        ensure_logs_dir(settings.home)
    except OSError as exc:
        raise NotCertain("cannot create the home directory") from exc


def parse_kill_args(argv: Sequence[str]) -> KillRequest | None:
    """``[global flags] kill [--flatten] [--wait S] [global flags]``, else ``None``.

    Only exact spellings: argparse also takes abbreviations, ``--help`` and more, and
    every such line goes to the full path, which parses it as it always has.
    """
    from alphapanda_tui.commands.kill import DEFAULT_WAIT_S, wait_seconds

    flags: dict[str, str] = {}
    flatten, wait_s, seen_command = False, DEFAULT_WAIT_S, False
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        name, has_value, value = token.partition("=")
        if token == COMMAND and not seen_command:
            seen_command = True
        elif seen_command and token == "--flatten":
            flatten = True
        elif name in _GLOBAL_OPTIONS or (seen_command and name == "--wait"):
            if not has_value:
                if not tokens:
                    return None
                value = tokens.pop(0)
            if not value or value.startswith("-"):
                return None
            if name == "--wait":
                try:
                    wait_s = wait_seconds(value)
                except Exception:  # argparse's own message comes from the full path
                    return None
            else:
                flags[_GLOBAL_OPTIONS[name]] = value
        else:
            return None
    if not seen_command or not _valid_choices(flags):
        return None
    if "log_level" in flags:
        flags["log_level"] = flags["log_level"].upper()
    return KillRequest(flags, flatten, wait_s)


def _valid_choices(flags: Mapping[str, str]) -> bool:
    return flags.get("mode", MODES[0]) in MODES and (
        flags.get("log_level", "INFO").upper() in LOG_LEVELS
    )


def send_kill(store: KillStore, settings: KillSettings, request: KillRequest) -> Outcome:
    """Store HALTED and the audited request, then wait for a running engine's ack."""
    from alphapanda_tui.kill_audit_log import log_audit_line
    from alphapanda_tui.operator import operator_identity
    from engine.ids import uuid7_str

    operator = operator_identity()
    request_id = uuid7_str()
    now = time.time_ns()
    state = StateRow(settings.broker, GLOBAL_SCOPE, HALTED, REASON, operator, now)
    detail = {
        "request_id": request_id,
        "broker": settings.broker,
        "strategy": None,
        "flatten": request.flatten,
    }
    audit = AuditLine(now, operator, REQUEST_ACTION, detail)
    store.write_request(state, audit)
    log_audit_line(settings, audit)
    ack = wait_for_ack(store, request_id, now, request.wait_s)
    if ack is None:
        return not_acknowledged(settings.home, request.flatten, request.wait_s)
    return killed(ack.actor, ack.detail, request.flatten)


def wait_for_ack(
    store: KillStore, request_id: str, since_ns: int, wait_s: float
) -> AuditLine | None:
    """``commands.control._wait_for_ack``: poll every 10 ms until ``wait_s`` has passed."""
    deadline = time.monotonic() + wait_s
    while True:
        for row in store.audit_after(since_ns, ACK_PREFIX):
            if is_kill_ack(row.detail, request_id):
                return row
        if time.monotonic() >= deadline:
            return None
        time.sleep(ACK_POLL_S)
