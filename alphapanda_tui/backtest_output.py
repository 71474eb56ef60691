"""What ``alphapanda backtest`` prints and keeps: the report as tables and a chart (the
default), one JSON line (``--json``), a self-contained HTML page (``--report FILE``), and
the run saved to the archive the console's backtests screen lists.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alphapanda_tui.errors import UsageError
from alphapanda_tui.manual_cli import positive_amount
from storage.backtest_archive import BacktestArchive


def configure_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (summary and report) only"
    )
    parser.add_argument(
        "--report",
        type=writable_file,
        metavar="FILE",
        help="also write the report as one HTML page",
    )
    parser.add_argument(
        "--capital",
        type=positive_amount("the capital base"),
        metavar="INR",
        help="capital base of returns, Sharpe and Sortino (default: the paper starting cash)",
    )


def writable_file(text: str) -> Path:
    """An argparse type: a file that can be written, refused at the command line rather
    than after a run of minutes whose report would then have nowhere to go."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"no such directory: {parent}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write to {text}: permission denied")
    return path


def backtest_archive(settings: Any) -> BacktestArchive:
    return BacktestArchive(settings.home / "backtests", settings.backtests.keep)


def emit_report(result: Any, args: argparse.Namespace, settings: Any) -> None:
    """Print the run as asked, write ``--report``, and save it to the archive."""
    from engine.backtest_report.report import build_report

    report = build_report(result, args.capital).as_dict()
    summary = result.as_dict()
    if args.report is not None:
        from alphapanda_tui.backtest_html import report_page

        try:
            args.report.write_text(report_page(summary, report), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report to {args.report}: {exc.strerror}") from None
    try:
        backtest_archive(settings).save(summary, report, datetime.now(UTC))
    except OSError as exc:  # the run's output matters more than its copy for the console
        print(f"warning: the run was not saved for the console: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary | {"report": report}))
        return
    from alphapanda_tui.backtest_text import print_report

    print_report(summary, report)
