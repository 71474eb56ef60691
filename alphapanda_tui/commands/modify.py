"""``alphapanda modify ORDER [--price P] [--trigger T] [--qty Q]``: modify one working order.

Kite allows 25 modifications of one order; the engine refuses the 26th before sending,
and says so (exit 1). Prints the order as stored once the venue accepted the change.
"""

from __future__ import annotations

import argparse
from typing import Any

from alphapanda_tui import manual_cli
from alphapanda_tui.errors import UsageError

NAME = "modify"
HELP = "modify one working order's price, trigger or quantity"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("order", metavar="ORDER", help="client order id (see 'alphapanda orders')")
    parser.add_argument("--price", type=manual_cli.price, metavar="P")
    parser.add_argument("--trigger", type=manual_cli.price, metavar="T")
    parser.add_argument("--qty", type=manual_cli.quantity, metavar="Q")
    manual_cli.add_yes(parser)


def run(args: argparse.Namespace, settings: Any) -> int:
    return manual_cli.run_async(modify(args, settings))


async def modify(args: argparse.Namespace, settings: Any) -> int:
    if args.price is None and args.trigger is None and args.qty is None:
        raise UsageError("give at least one of --price, --trigger, --qty")
    manual_cli.require_engine(settings)
    changes = {
        "price": None if args.price is None else str(args.price),
        "trigger_price": None if args.trigger is None else str(args.trigger),
        "quantity": args.qty,
    }
    said = ", ".join(f"{k} {v}" for k, v in changes.items() if v is not None)
    if not manual_cli.confirmed(f"Modify order {args.order}: {said}?", args.yes):
        print("not modified")
        return manual_cli.NOT_CONFIRMED_EXIT
    ack = await manual_cli.send_request(settings, "modify", client_order_id=args.order, **changes)
    if ack is None:
        return manual_cli.no_ack("modify")
    try:
        if not ack.sent:
            return manual_cli.refused(ack)
        order = await manual_cli.wait_for_order(ack.store, args.order, lambda o: _applied(o, args))
    finally:
        await ack.store.aclose()
    assert order is not None
    count = ack.detail.get("modification")
    print(f"{manual_cli.order_line(order)} (modification {count} of 25)")
    return 0


def _applied(order: Any, args: argparse.Namespace) -> bool:
    return (
        (args.price is None or order.price == args.price)
        and (args.trigger is None or order.trigger_price == args.trigger)
        and (args.qty is None or order.quantity == args.qty)
    )
