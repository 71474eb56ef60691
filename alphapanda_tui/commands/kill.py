"""``alphapanda kill [--flatten] [--wait S]``: the kill switch from a shell.

Trading goes HALTED at once (persisted, so a restart stays halted). The command returns
once a running engine has acknowledged that it stopped sending (it then cancels every
open order, and squares off positions with ``--flatten``); with no acknowledgement within
``--wait`` seconds it says so and exits 3. A flatten is only ever done by a running
engine: a later start never squares off by itself.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

NAME = "kill"
HELP = "kill switch: HALT all trading, cancel open orders (--flatten squares off)"
DEFAULT_WAIT_S = 3.0
MAX_WAIT_S = 60.0


def wait_seconds(text: str) -> float:
    """``--wait``: a number of seconds in (0, 60]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--wait must be a number of seconds, not {text!r}"
        ) from None
    if not math.isfinite(value) or not 0 < value <= MAX_WAIT_S:
        raise argparse.ArgumentTypeError(f"--wait must be above 0 and at most {MAX_WAIT_S:g} s")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flatten", action="store_true", help="also square off every position")
    parser.add_argument(
        "--wait",
        type=wait_seconds,
        default=DEFAULT_WAIT_S,
        metavar="S",
        help=f"seconds to wait for a running engine's acknowledgement (default {DEFAULT_WAIT_S:g})",
    )


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.commands.control import run_request

    return run_request(settings, "kill", flatten=args.flatten, wait_s=args.wait)
