"""``alphapanda protect SYMBOL [--strategy S] [--stop P | --stop-pct X] [--target P |
--target-pct X] [--trail P | --trail-pct X] [--clear] [--yes] [--json]``: a stop-loss,
target and trailing stop on one open position, kept by the running engine.

The position is found in storage (``--strategy`` picks one when several strategies hold
SYMBOL). The request replaces what the position had; ``--clear`` removes it. The engine's
protection service checks the levels against the position and the tick size: the
command prints what it stored, or its refusal, read back from storage; ``--json`` prints
the position and the protection the engine now keeps (``null`` once cleared) for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from decimal import Decimal
from typing import Any

import msgspec

from alphapanda_tui import manual_cli
from alphapanda_tui.books_cli import money, read
from alphapanda_tui.errors import UsageError

NAME = "protect"
HELP = "set or clear a position's stop-loss, target and trailing stop (running engine)"
# option, request field, what it is
_LEVELS = (
    ("stop", "stop_price", "stop-loss price"),
    ("stop_pct", "stop_pct", "stop-loss, percent below a long's (above a short's) average"),
    ("target", "target_price", "target price"),
    ("target_pct", "target_pct", "target, percent beyond the average price"),
    ("trail", "trail_amount", "trailing stop, rupees behind the best price since set"),
    ("trail_pct", "trail_pct", "trailing stop, percent behind the best price since set"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", metavar="SYMBOL", help="the position's instrument, e.g. INFY")
    parser.add_argument("--strategy", metavar="S", help="the strategy holding it")
    for pair in (_LEVELS[0:2], _LEVELS[2:4], _LEVELS[4:6]):
        group = parser.add_mutually_exclusive_group()
        for option, _, what in pair:
            flag = "--" + option.replace("_", "-")
            metavar = "X" if option.endswith("pct") else "P"
            group.add_argument(flag, dest=option, type=manual_cli.price, metavar=metavar, help=what)
    parser.add_argument("--clear", action="store_true", help="remove the position's protection")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    manual_cli.add_yes(parser)


def run(args: argparse.Namespace, settings: Any) -> int:
    return manual_cli.run_async(protect(args, settings))


def requested(args: argparse.Namespace) -> dict[str, str]:
    """The levels asked for, by request field, as exact decimal strings."""
    return {
        field: str(getattr(args, option))
        for option, field, _ in _LEVELS
        if getattr(args, option) is not None
    }


async def protect(args: argparse.Namespace, settings: Any) -> int:
    levels = requested(args)
    if args.clear == bool(levels):
        raise UsageError("give --stop, --target or --trail (or a percent of one), or --clear")
    manual_cli.require_engine(settings)
    position = await _position(settings, args)
    what = f"{position.symbol} ({position.strategy}, net {position.net_quantity:+d})"
    question = (
        f"Clear the protection of {what}?" if args.clear else f"Protect {what}: {_words(levels)}?"
    )
    if not manual_cli.confirmed(question, args.yes):
        print("nothing changed")
        return manual_cli.NOT_CONFIRMED_EXIT
    earlier = {_alert_key(a) for a in await read(settings, _alerts)}  # before the engine acts
    ack = await manual_cli.send_request(
        settings,
        "protect",
        strategy=position.strategy,
        instrument_token=position.instrument_token,
        symbol=position.symbol,
        clear=args.clear,
        **levels,
    )
    if ack is None:
        return manual_cli.no_ack("protection")
    try:
        if not ack.sent:
            return manual_cli.refused(ack)
        outcome = await _outcome(ack.store, settings.broker, position, levels, args.clear, earlier)
    finally:
        await ack.store.aclose()
    if isinstance(outcome, int):
        return outcome
    print(_as_json(position, outcome) if args.json else _as_words(position, outcome))
    return 0


def _as_words(position: Any, kept: Any | None) -> str:
    if kept is None:
        return f"protection of {position.symbol} ({position.strategy}) cleared"
    return f"protecting {position.symbol} ({position.strategy}): {describe(kept)}"


def _as_json(position: Any, kept: Any | None) -> str:
    """The position and its stored protection (``null`` once cleared); money as exact
    decimal strings, as ``positions --json`` prints them."""
    return json.dumps(
        {
            "strategy": position.strategy,
            "symbol": position.symbol,
            "instrument_token": position.instrument_token,
            "net_quantity": position.net_quantity,
            "protection": None if kept is None else msgspec.to_builtins(kept),
        },
        indent=2,
    )


async def _position(settings: Any, args: argparse.Namespace) -> Any:
    """The one open position of SYMBOL (and ``--strategy``), or a refusal naming why."""
    from engine.trading_state.manual import instrument_key

    key = instrument_key(args.symbol)

    async def held(store: Any) -> list[Any]:
        return [
            p
            for p in await store.list_positions(settings.broker)
            if p.net_quantity != 0
            and p.symbol == key
            and (args.strategy is None or p.strategy == args.strategy)
        ]

    positions = await read(settings, held)
    owner = f" held by {args.strategy}" if args.strategy else ""
    if not positions:
        raise UsageError(f"no open position in {key}{owner}: nothing to protect")
    if len(positions) > 1:
        names = ", ".join(sorted(p.strategy for p in positions))
        raise UsageError(f"{key} is held by {names}: name one with --strategy")
    return positions[0]


async def _outcome(
    store: Any,
    broker: Any,
    position: Any,
    levels: dict[str, str],
    clear: bool,
    earlier: set[tuple[int, str]],
) -> Any | int:
    """Wait for the protection service's answer: the stored protection (None once
    removed), or the exit status of a refusal it raised as an alert (one not among the
    ``earlier`` ones) or of no answer in time."""
    deadline = time.monotonic() + manual_cli.OUTCOME_WAIT_S
    while True:
        stored = [
            p
            for p in await store.list_protections(broker)
            if p.strategy == position.strategy and p.instrument_token == position.instrument_token
        ]
        if clear and not stored:
            return None
        if stored and not clear and _matches(stored[0], levels):
            return stored[0]
        for alert in await _alerts(store):
            if _alert_key(alert) in earlier or alert.rule != "protection":
                continue
            if alert.strategy == position.strategy and alert.symbol == position.symbol:
                print(f"refused: {alert.message}", file=sys.stderr)
                return manual_cli.REFUSED_EXIT
        if time.monotonic() >= deadline:
            print(
                f"protection sent, not confirmed within {manual_cli.OUTCOME_WAIT_S:g} s: "
                "see the console's alerts and 'alphapanda positions'"
            )
            return manual_cli.REFUSED_EXIT
        await asyncio.sleep(manual_cli.ACK_POLL_S)


async def _alerts(store: Any) -> list[Any]:
    return list(await store.list_alerts(50)) if hasattr(store, "list_alerts") else []


def _alert_key(alert: Any) -> tuple[int, str]:
    return (alert.alert_ts, alert.message)


def _matches(protection: Any, levels: dict[str, str]) -> bool:
    """The stored protection is the one asked for (the request replaces every level)."""
    return all(
        getattr(protection, field) == (Decimal(levels[field]) if field in levels else None)
        for _, field, _ in _LEVELS
    )


def _words(levels: dict[str, str]) -> str:
    return ", ".join(f"{field.replace('_', ' ')} {value}" for field, value in levels.items())


def describe(protection: Any) -> str:
    """``stop 1,480.00, target 2%, trail 5.00`` (percents as set: they follow the average)."""
    parts = []
    for name, price_field, pct_field in (
        ("stop", "stop_price", "stop_pct"),
        ("target", "target_price", "target_pct"),
        ("trail", "trail_amount", "trail_pct"),
    ):
        price, pct = getattr(protection, price_field), getattr(protection, pct_field)
        if price is not None:
            parts.append(f"{name} {money(price)}")
        elif pct is not None:
            parts.append(f"{name} {pct.normalize():f}%")
    if getattr(protection, "fired", ""):
        parts.append(f"fired ({protection.fired})")
    return ", ".join(parts) or "-"
