"""``alphapanda`` subcommands, one module each, registered by name in ``cli.COMMANDS``.

A command module exposes:

- ``NAME: str`` and ``HELP: str`` (one line for ``alphapanda --help``);
- ``configure(parser: argparse.ArgumentParser) -> None`` to add its arguments;
- ``run(args: argparse.Namespace, settings: Settings) -> int``, the exit status.

Optional module flags:

- ``SETUP_LOGGING = False``: the frame writes no log files (``config`` uses it);
- ``LOG_TO_CONSOLE = True``: also log every line to stderr;
- ``TRADER_STDOUT = True``: print the trader's lines (fills, halts, alerts, operator
  actions) to stdout, one human line each (headless ``engine``);
- ``REQUIRES_LIVE_CREDENTIALS = True``: in live mode, stop with one line when the Kite
  API key or secret is missing (``tui``, ``engine``).

When logging is set up, ``args.logs`` is the ``LogRuntime``; its ``.ring`` feeds the
console's log viewer. Raise ``ConfigError`` / ``UsageError`` for problems the operator
can fix: the frame prints one line and exits 2. Import heavy dependencies inside ``run``
so ``alphapanda --help`` stays fast.
"""
