"""``alphapanda kill [--flatten]``: the kill switch from a shell.

Trading goes HALTED at once (persisted, so a restart stays halted); a running engine
cancels every open order within a second, and squares off positions with ``--flatten``.
"""

from __future__ import annotations

import argparse
from typing import Any

NAME = "kill"
HELP = "kill switch: HALT all trading, cancel open orders (--flatten squares off)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flatten", action="store_true", help="also square off every position")


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.commands.control import run_request

    return run_request(settings, "kill", flatten=args.flatten)
