"""The env names of settings: ``ALPHAPANDA_`` + group + ``__`` + field, upper case.

A public contract (``.env`` files and deployments use them); every error, doc and check
that names a setting goes through ``env_name``.
"""

from __future__ import annotations

from typing import Any

ENV_PREFIX = "ALPHAPANDA_"

NESTED_DELIMITER = "__"


def env_name(loc: tuple[Any, ...]) -> str:
    """``("bus", "backend")`` → ``ALPHAPANDA_BUS__BACKEND`` (list indices dropped)."""
    parts = [str(part) for part in loc if isinstance(part, str)]
    return ENV_PREFIX + NESTED_DELIMITER.join(part.upper() for part in parts)
