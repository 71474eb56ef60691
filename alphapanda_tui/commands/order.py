"""``alphapanda order buy|sell SYMBOL QTY [--limit P | --sl TRIGGER [--limit P]]``: one order
by hand, through the running engine's risk checks, outbox and kill-switch check.

The order carries the strategy ``manual``; the audit log names the operator. The command
prints the order's id and status once the engine has it, or risk's refusal with its
reason (exit 1); with no engine running it stores nothing and exits 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from alphapanda_tui import manual_cli

NAME = "order"
HELP = "place one order by hand (strategy 'manual') through the running engine"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("side", choices=("buy", "sell"), type=str.lower)
    parser.add_argument("symbol", help="e.g. INFY or NSE:INFY")
    parser.add_argument("quantity", type=manual_cli.quantity)
    parser.add_argument("--limit", type=manual_cli.price, metavar="P", help="limit price")
    parser.add_argument(
        "--sl", type=manual_cli.price, metavar="TRIGGER", help="stop-loss trigger (SL-M alone)"
    )
    parser.add_argument("--product", choices=("MIS", "CNC", "NRML"), type=str.upper, default="MIS")
    parser.add_argument("--validity", choices=("DAY", "IOC"), type=str.upper, default="DAY")
    manual_cli.add_yes(parser)


def order_type(args: argparse.Namespace) -> str:
    if args.sl is not None:
        return "SL" if args.limit is not None else "SL-M"
    return "LIMIT" if args.limit is not None else "MARKET"


def run(args: argparse.Namespace, settings: Any) -> int:
    return manual_cli.run_async(place(args, settings))


async def place(args: argparse.Namespace, settings: Any) -> int:
    kind = order_type(args)
    ticket = {
        "side": args.side.upper(),
        "symbol": args.symbol,
        "quantity": args.quantity,
        "order_type": kind,
        "product": args.product,
        "validity": args.validity,
        "price": None if args.limit is None else str(args.limit),
        "trigger_price": None if args.sl is None else str(args.sl),
    }
    manual_cli.require_engine(settings)
    what = f"{ticket['side']} {args.quantity} {args.symbol.upper()} {kind}"
    if args.limit is not None:
        what += f" @ {args.limit}"
    if args.sl is not None:
        what += f" trigger {args.sl}"
    what += f" {args.product} {args.validity} on {settings.broker.value}"
    if not manual_cli.confirmed(f"Send {what}?", args.yes):
        print("not sent")
        return manual_cli.NOT_CONFIRMED_EXIT
    ack = await manual_cli.send_request(settings, "order", ticket=ticket)
    if ack is None:
        return manual_cli.no_ack("order")
    try:
        if not ack.sent:
            return manual_cli.refused(ack)
        return await _outcome(ack, kind)
    finally:
        await ack.store.aclose()


async def _outcome(ack: manual_cli.Acknowledged, kind: str) -> int:
    """Print the order as execution stored it, or risk's refusal (then no order exists)."""
    import asyncio
    import time

    coid = str(ack.detail["client_order_id"])
    settled = _filled_or_closed if kind == "MARKET" else _left_pending
    deadline = time.monotonic() + manual_cli.OUTCOME_WAIT_S
    order = None
    while time.monotonic() < deadline:
        order = await ack.store.get_order(coid)
        if order is not None and settled(order):
            break
        if order is None:
            refusal = await _risk_refusal(ack)
            if refusal is not None:
                print(f"REJECTED by risk: {refusal}; nothing sent")
                return manual_cli.REFUSED_EXIT
        await asyncio.sleep(manual_cli.ACK_POLL_S)
    if order is None:
        print(f"order {coid} handed to the engine; no outcome yet (see 'alphapanda orders')")
        return 0
    print(manual_cli.order_line(order))
    return manual_cli.REFUSED_EXIT if order.status.value == "REJECTED" else 0


async def _risk_refusal(ack: manual_cli.Acknowledged) -> str | None:
    """Risk's rule and reason for this request's signal, once recorded."""
    from engine.trading_state.manual import manual_signal_id
    from engine.trading_state.manual_outcomes import OUTCOME_ORDER

    signal_id = manual_signal_id(ack.request_id)
    for row in await ack.store.list_audit_after(0, OUTCOME_ORDER, limit=10_000):
        if row.detail.get("signal_id") == signal_id:
            return f"{row.detail.get('rule')}: {row.detail.get('reason')}"
    return None


def _filled_or_closed(order: Any) -> bool:
    return bool(order.status.is_terminal)


def _left_pending(order: Any) -> bool:
    return order.status.value not in ("PENDING", "SUBMITTED")
