"""``alphapanda resume [--strategy NAME]``: the operator's explicit way back to ACTIVE."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "resume"
HELP = "resume trading after a halt or the kill switch (--strategy for one strategy)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", help="resume only this strategy")


def run(args: argparse.Namespace, settings: Any) -> int:
    from alphapanda_tui.commands.control import run_request

    return run_request(settings, "resume", strategy=args.strategy)
