"""The ``backtests`` settings group (``ALPHAPANDA_BACKTESTS__*``): the archive of past runs."""

from __future__ import annotations

from pydantic import Field

from alphapanda_tui.settings.groups import _doc, _Group


class BacktestsSettings(_Group):
    keep: int = Field(
        20, ge=1, le=1000, **_doc("Backtests kept under <home>/backtests for the console.")
    )
