"""The ``alphapanda`` command: parse arguments, build settings once, run one subcommand.

Only parsing lives here; each subcommand is a module in ``alphapanda_tui.commands``
(see its docstring for the contract). A missing or broken command module is listed as
such and never breaks ``--help`` for the others.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

from alphapanda_tui.errors import AlphaPandaError, UsageError

if TYPE_CHECKING:
    from alphapanda_tui.settings import Settings

PROG = "alphapanda"
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left
COMMANDS: tuple[str, ...] = (
    "tui",
    "engine",
    "backtest",
    "status",
    "kill",
    "resume",
    "login",
    "logout",
    "db",
    "instruments",
    "config",
    "strategies",
    "order",
    "cancel",
    "modify",
    "exit",
    "protect",
    "orders",
    "trades",
    "positions",
    "ticks",
    "history",
)
# A command whose module is named otherwise (``exit`` would shadow the builtin's name).
MODULE_OF_COMMAND = {"exit": "exit_positions"}
DEFAULT_COMMAND = "tui"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_GLOBAL_WITH_VALUE = ("--home", "--mode", "--log-level")
_PASS_THROUGH = ("-h", "--help", "--version")


class CliParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, not usage plus a message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


@dataclass(frozen=True)
class CommandModule:
    """A registered command: its module, or why it cannot run."""

    name: str
    module: ModuleType | None
    problem: str | None = None


def load_command(name: str) -> CommandModule:
    """Import ``alphapanda_tui.commands.<name>``; a failure is recorded, not raised."""
    module_name = f"alphapanda_tui.commands.{MODULE_OF_COMMAND.get(name, name)}"
    try:
        module = importlib.import_module(module_name)
        module.configure(CliParser(prog=f"{PROG} {name}"))  # a broken parser fails here
        return CommandModule(name, module)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return CommandModule(name, None, "not installed")
        return CommandModule(name, None, f"unavailable: {exc}")
    except Exception as exc:  # a broken command must not break the others
        return CommandModule(name, None, f"unavailable: {type(exc).__name__}: {exc}")


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On subparsers the defaults are suppressed so they never overwrite a value given
    # before the subcommand; both `alphapanda --home X db` and `alphapanda db --home X` work.
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--home", type=Path, default=default, help="data, logs and token dir (ALPHAPANDA_HOME)"
    )
    parser.add_argument(
        "--mode", choices=("paper", "live"), default=default, help="trading mode (ALPHAPANDA_MODE)"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default=default,
        help="log level (ALPHAPANDA_LOG__LEVEL)",
    )


def build_parser(commands: Sequence[CommandModule]) -> CliParser:
    parser = CliParser(
        prog=PROG,
        description="Terminal trading console for Zerodha Kite Connect. "
        f"Without a command, runs '{DEFAULT_COMMAND}' (the console).",
        epilog="Settings come from ALPHAPANDA_* environment variables and .env; "
        "see 'alphapanda config show'.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_global_options(parser, suppress=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in commands:
        if command.module is None:
            sub = subparsers.add_parser(command.name, help=f"({command.problem})")
            sub.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        else:
            help_text = getattr(command.module, "HELP", "")
            sub = subparsers.add_parser(command.name, help=help_text, description=help_text)
            command.module.configure(sub)
        _add_global_options(sub, suppress=True)
    return parser


def with_default_command(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """Insert the default command when none is given (``alphapanda --attach`` → tui)."""
    args = list(argv)
    index = 0
    while index < len(args):
        token = args[index]
        if token in _PASS_THROUGH or token in names:
            return args
        if token in _GLOBAL_WITH_VALUE:
            index += 2
        elif token.split("=", 1)[0] in _GLOBAL_WITH_VALUE:
            index += 1
        else:
            break
    return [*args[:index], DEFAULT_COMMAND, *args[index:]]


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with the global flags layered over env and ``.env``."""
    from alphapanda_tui.settings import load_settings

    overrides: dict[str, Any] = {"home": args.home, "mode": args.mode}
    if args.log_level:
        overrides["log"] = {"level": args.log_level}
    return load_settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``alphapanda`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if "kill" in argv:  # the kill switch first, before pydantic and SQLAlchemy load
            from alphapanda_tui.kill_fast import fast_kill

            status = fast_kill(argv)
            if status is not None:
                return status
        commands = [load_command(name) for name in COMMANDS]
        parser = build_parser(commands)
        args, extra = parser.parse_known_args(with_default_command(argv, COMMANDS))
        if extra:
            raise UsageError(
                f"unrecognized arguments: {' '.join(extra)} (see '{PROG} {args.command} --help')"
            )
        settings = settings_from_args(args)
        command = next(item for item in commands if item.name == args.command)
        if command.module is None:
            _fail(f"command '{command.name}' is {command.problem}")
            return 1
        from alphapanda_tui.settings.check import check_settings

        check_settings(settings, os.environ)
        return _run(command.module, args, settings)
    except AlphaPandaError as exc:
        _fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        # the reader stopped early (``alphapanda orders | head``): not an error to report.
        # Whatever is still buffered has nowhere to go; without this, the flush at exit
        # prints another traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE_EXIT


def _run(module: ModuleType, args: argparse.Namespace, settings: Settings) -> int:
    if getattr(module, "REQUIRES_LIVE_CREDENTIALS", False):
        settings.require_live_credentials()
    if not getattr(module, "SETUP_LOGGING", True):
        return int(module.run(args, settings) or 0)
    from alphapanda_tui.logging_setup import start_logging

    runtime = start_logging(
        settings,
        console=getattr(module, "LOG_TO_CONSOLE", False),
        trader_stdout=getattr(module, "TRADER_STDOUT", False),
    )
    args.logs = runtime
    try:
        return int(module.run(args, settings) or 0)
    except Exception as exc:
        # a bug: keep its traceback in errors.jsonl (a reader that left early is none)
        if not isinstance(exc, (AlphaPandaError, BrokenPipeError)):
            logging.getLogger("alphapanda.cli").exception("command %s failed", args.command)
        raise
    finally:
        runtime.close()


def _fail(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alphapanda")
    except PackageNotFoundError:
        return "dev"
