"""Which tables a schema downgrade would drop, read from the migration scripts.

``alphapanda db downgrade`` asks before it destroys the journal (orders, fills, audit):
each revision the downgrade undoes is read for ``op.drop_table("name")`` in its
``downgrade()``, so a new migration is covered without a list to keep in step.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable

from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from storage.migrate import alembic_config


class UnknownDowngrade(Exception):
    """The path from the current revision to the target could not be worked out."""


def tables_dropped(current: str | None, target: str) -> list[str]:
    """Tables the downgrade from ``current`` to ``target`` drops, in the order it drops them."""
    if current is None:
        return []  # an empty database has nothing to lose
    script = ScriptDirectory.from_config(alembic_config())
    try:
        if target.startswith("-") and target[1:].isdigit():  # relative: the last N
            undone = list(script.iterate_revisions(current, "base"))[: int(target[1:])]
        else:
            undone = list(script.iterate_revisions(current, target))
    except (CommandError, RevisionError) as exc:
        raise UnknownDowngrade(str(exc)) from None
    dropped: list[str] = []
    for revision in undone:
        dropped.extend(_drop_table_names(revision.module.downgrade))
    return dropped


def _drop_table_names(downgrade: Callable[[], None]) -> list[str]:
    tree = ast.parse(inspect.getsource(downgrade))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "drop_table"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]
