"""``alphapanda cancel ORDER``: cancel one working order through the running engine.

ORDER is the client order id (``alphapanda orders`` lists them). Prints the order once the
venue has cancelled it; an order that is not working is refused in words (exit 1).
"""

from __future__ import annotations

import argparse
from typing import Any

from alphapanda_tui import manual_cli

NAME = "cancel"
HELP = "cancel one working order through the running engine"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("order", metavar="ORDER", help="client order id (see 'alphapanda orders')")
    manual_cli.add_yes(parser)


def run(args: argparse.Namespace, settings: Any) -> int:
    return manual_cli.run_async(cancel(args, settings))


async def cancel(args: argparse.Namespace, settings: Any) -> int:
    manual_cli.require_engine(settings)
    if not manual_cli.confirmed(f"Cancel order {args.order}?", args.yes):
        print("not cancelled")
        return manual_cli.NOT_CONFIRMED_EXIT
    ack = await manual_cli.send_request(settings, "cancel", client_order_id=args.order)
    if ack is None:
        return manual_cli.no_ack("cancel")
    try:
        if not ack.sent:
            return manual_cli.refused(ack)
        order = await manual_cli.wait_for_order(
            ack.store, args.order, lambda o: o.status.is_terminal
        )
    finally:
        await ack.store.aclose()
    assert order is not None
    if order.status.value == "CANCELLED":
        print(manual_cli.order_line(order))
        return 0
    print(f"cancel sent, not confirmed within {manual_cli.OUTCOME_WAIT_S:g} s: ", end="")
    print(manual_cli.order_line(order))
    return manual_cli.REFUSED_EXIT
