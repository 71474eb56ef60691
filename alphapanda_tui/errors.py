"""Errors the CLI turns into one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations


class AlphaPandaError(Exception):
    """An error the operator can fix; its message is the whole story."""

    exit_code = 2


class ConfigError(AlphaPandaError):
    """A setting is missing or invalid; the message names it by its env name."""


class UsageError(AlphaPandaError):
    """The command line or operator input is wrong (bad argument, unknown instrument, ...)."""
